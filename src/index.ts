/** Library entry point of siptrust: the pure building blocks. */
export * from "./sip/index.js";
