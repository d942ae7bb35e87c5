// A loopback UDP port that was free a moment ago (for SIPp and Kamailio, which take a port number).
import * as dgram from "node:dgram";

export function freeUdpPort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket("udp4");
    socket.once("error", reject);
    socket.bind(0, host, () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

/** `count` consecutive free loopback UDP ports (serve --workers N binds the inside port + index). */
export async function freeUdpPortRange(count: number, host = "127.0.0.1"): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = await freeUdpPort(host);
    if (base + count > 65535) continue;
    let free = true;
    for (let i = 1; i < count && free; i++) free = await canBind(base + i, host);
    if (free) return base;
  }
  throw new Error(`no ${count} consecutive free UDP ports found`);
}

function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket("udp4");
    socket.once("error", () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, host, () => socket.close(() => resolve(true)));
  });
}
