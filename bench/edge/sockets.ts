// Whether a daemon has bound its port yet, read from /proc/net (no connection or datagram sent to it, so a
// readiness check never counts as a call or a handshake in a daemon's statistics).
import { readFileSync } from "node:fs";

/** Whether a TCP socket listens on 127.0.0.1:port (or the wildcard address). */
export function listening(port: number): boolean {
  return socketTable("/proc/net/tcp", port, "0A");
}

/** Whether a UDP socket is bound to 127.0.0.1:port (or the wildcard address). */
export function udpBound(port: number): boolean {
  return socketTable("/proc/net/udp", port, "07");
}

function socketTable(file: string, port: number, state: string): boolean {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  const any = `00000000:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  const text = readTable(file);
  return text.split("\n").some((line) => {
    const cols = line.trim().split(/\s+/);
    return (cols[1] === local || cols[1] === any) && cols[3] === state;
  });
}

function readTable(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

/** Datagrams the kernel dropped so far because a UDP socket's receive buffer was full (all sockets). */
export function udpReceiveBufferErrors(): number {
  const lines = readTable("/proc/net/snmp")
    .split("\n")
    .filter((l) => l.startsWith("Udp:"));
  const names = lines[0]?.trim().split(/\s+/) ?? [];
  const values = lines[1]?.trim().split(/\s+/) ?? [];
  return Number(values[names.indexOf("RcvbufErrors")] ?? 0) || 0;
}

/** Datagrams dropped so far by the UDP socket bound to 127.0.0.1:port (/proc/net/udp "drops" column). */
export function udpSocketDrops(port: number): number {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  for (const line of readTable("/proc/net/udp").split("\n")) {
    const cols = line.trim().split(/\s+/);
    if (cols[1] === local) return Number(cols[cols.length - 1]) || 0;
  }
  return 0;
}
