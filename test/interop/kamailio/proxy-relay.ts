// A counting TCP relay on 127.0.0.1 in front of a TLS listener: bytes pass through untouched (TLS, SNI and
// certificates are end to end), and the relay counts the connections made through it. Lets a test prove that
// a client did try an SRV target (a connection came) even when the server never saw a SIP request on it.
import * as net from "node:net";

export interface CountingRelay {
  readonly port: number;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

export async function startCountingRelay(
  targetPort: number,
  targetHost = "127.0.0.1",
): Promise<CountingRelay> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const track = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  };
  const server = net.createServer((inbound) => {
    accepted++;
    const outbound = net.connect(targetPort, targetHost);
    track(inbound);
    track(outbound);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
    inbound.on("close", () => outbound.destroy());
    outbound.on("close", () => inbound.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    connections: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
