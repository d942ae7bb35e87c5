// One raw DNS query over UDP with a hard timeout, for readiness polling (cheaper than spawning kdig).
import { createSocket } from "node:dgram";
import { randomInt } from "node:crypto";
import dnsPacket from "dns-packet";

export interface ProbeAnswer {
  readonly rcode: string;
  readonly aa: boolean;
  readonly ad: boolean;
  readonly answerTypes: readonly string[];
  readonly answers: readonly dnsPacket.Answer[];
}

export interface ProbeQuery {
  readonly host: string;
  readonly port: number;
  readonly name: string;
  readonly type: dnsPacket.RecordType;
  /** RD bit: on for the resolver, off for the authoritative server. */
  readonly recursion: boolean;
  readonly timeoutMs: number;
}

function encodeQuery(q: ProbeQuery, id: number): Buffer {
  return dnsPacket.encode({
    type: "query",
    id,
    flags: q.recursion ? dnsPacket.RECURSION_DESIRED : 0,
    questions: [{ type: q.type, name: q.name.replace(/\.$/, "") }],
    // RFC 3225: DO bit, so signatures come back and the validator sets AD
    additionals: [
      {
        type: "OPT",
        name: ".",
        udpPayloadSize: 1232,
        extendedRcode: 0,
        ednsVersion: 0,
        flags: dnsPacket.DNSSEC_OK,
        flag_do: true,
        options: [],
      },
    ],
  });
}

// RFC 1035 §4.1.1 / RFC 6895 §2.3: the low four header bits (enough for readiness checks).
const RCODES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"];

function summarize(packet: dnsPacket.DecodedPacket): ProbeAnswer {
  const flags = packet.flags ?? 0;
  return {
    rcode: RCODES[flags & 0xf] ?? `RCODE${flags & 0xf}`,
    aa: (flags & dnsPacket.AUTHORITATIVE_ANSWER) !== 0,
    ad: (flags & dnsPacket.AUTHENTIC_DATA) !== 0,
    answerTypes: (packet.answers ?? []).map((a) => a.type),
    answers: packet.answers ?? [],
  };
}

/** Resolves with the answer, or with undefined on timeout / socket error (the caller polls again). */
export function probe(q: ProbeQuery): Promise<ProbeAnswer | undefined> {
  const id = randomInt(0, 65536);
  const socket = createSocket("udp4");
  return new Promise((resolve) => {
    const finish = (value: ProbeAnswer | undefined): void => {
      clearTimeout(timer);
      socket.close();
      resolve(value);
    };
    const timer = setTimeout(() => finish(undefined), q.timeoutMs);
    socket.on("error", () => finish(undefined));
    socket.on("message", (msg) => {
      try {
        const packet = dnsPacket.decode(msg);
        if (packet.id === id) finish(summarize(packet));
      } catch {
        // not a DNS answer to us; keep waiting for the real one until the timeout
      }
    });
    // Connected, so a port nobody listens on yet fails at once (ICMP unreachable) instead of timing out.
    socket.connect(q.port, q.host, () => socket.send(encodeQuery(q, id)));
  });
}
