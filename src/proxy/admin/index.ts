export * from "./admin-target.js";
export * from "./admin-server.js";
export * from "./admin-client.js";
export * from "./bearer-token.js";
export * from "./connection-view.js";
export * from "./counter-families.js";
export * from "./loopback.js";
export * from "./metrics.js";
