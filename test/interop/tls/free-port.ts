// A loopback TCP port that was free a moment ago (for daemons that cannot listen on port 0 and report it).
import { createServer, type AddressInfo } from "node:net";

export function freeTcpPort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
