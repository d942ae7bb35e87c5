// A loopback port free for both UDP and TCP right now (DNS servers listen on both).
// Another process can still take it before the daemon binds; callers retry on a bind failure.
import { createSocket } from "node:dgram";
import { createServer, type AddressInfo } from "node:net";

function tcpEphemeralPort(host: string): Promise<{ port: number; close: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const { port } = server.address() as AddressInfo;
      resolve({ port, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}

function udpBindable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket("udp4");
    socket.once("error", () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, host, () => socket.close(() => resolve(true)));
  });
}

export async function freeDnsPort(host = "127.0.0.1", attempts = 20): Promise<number> {
  for (let i = 0; i < attempts; i++) {
    const tcp = await tcpEphemeralPort(host);
    const udpFree = await udpBindable(host, tcp.port);
    await tcp.close();
    if (udpFree) return tcp.port;
  }
  throw new Error(`no port free for both UDP and TCP on ${host} after ${attempts} tries`);
}
