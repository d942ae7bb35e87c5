// The world the outbound interop tests run in: certificates from src/pki/issue.ts, one real TLS server per
// SRV target (each on its own 127.0.0.x address), and a real DNSSEC lab (Knot + Unbound) whose zones point at
// those servers — one zone per scenario of issue 5 §5. Servers start first: their random ports go into SRV
// owner data and TLSA owner names.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { X509Certificate } from "node:crypto";
import {
  createCa,
  createSelfSigned,
  issueCertificate,
  type GeneratedCertificate,
} from "../../../src/pki/issue.js";
import { startDnsLab, type DnsLab, type LabZone } from "../lab/dns-lab.js";
import { a, naptr, srv, tlsa, tlsaAssociation } from "../lab/records.js";
import { startTlsTestServer, type TlsTestServer } from "./tls-test-server.js";

/** The configured CA set of the tests (RFC 5922 path). */
const caLab = createCa({ cn: "Outbound lab CA" });
/** DANE-TA roots: deliberately NOT configured, reachable only through TLSA records. */
const caTa = createCa({ cn: "DANE-TA root" });
const taIntermediate = issueCertificate(caTa, {
  cn: "DANE-TA intermediate",
  basicConstraints: { ca: true, critical: true },
  keyUsage: ["keyCertSign", "cRLSign", "digitalSignature"],
  days: 30,
});
/** The edge's own client certificate, presented when a test asks for it. */
const client = issueCertificate(caLab, { cn: "edge.client.test", eku: ["clientAuth"] });
/** A certificate no server presents: TLSA records made from it never match. */
const decoy = createSelfSigned({ cn: "decoy" });

/** RFC 5922 server certificate issued by the configured CA for `domain`. */
function sipServerCert(domain: string): GeneratedCertificate {
  return issueCertificate(caLab, { cn: domain, san: { uri: [`sip:${domain}`] }, eku: ["sipDomain"] });
}

interface ServerPlan {
  readonly address: string;
  readonly leaf: GeneratedCertificate;
  /** Certificates sent after the leaf. */
  readonly extra?: readonly GeneratedCertificate[];
}

function plans() {
  return {
    // DANE-EE: a self-signed certificate with no SIP or DNS name at all
    ee: { address: "127.0.0.21", leaf: createSelfSigned({ cn: "dane-ee only" }) },
    // failover: the first target would pass RFC 5922, but its TLSA does not match: no fallback to PKIX
    foA: { address: "127.0.0.22", leaf: sipServerCert("fo.test") },
    foB: { address: "127.0.0.23", leaf: createSelfSigned({ cn: "fo second" }) },
    ta201: {
      address: "127.0.0.24",
      leaf: issueCertificate(caTa, { cn: "ta201", san: { dns: ["s.ta201.test"] }, eku: ["serverAuth"] }),
      extra: [caTa],
    },
    ta211: {
      address: "127.0.0.25",
      leaf: issueCertificate(taIntermediate, { cn: "ta211", san: { dns: ["s.ta211.test"] } }),
      extra: [taIntermediate],
    },
    // DANE-TA match, but the leaf names neither the SRV target nor the SIP domain (RFC 7673 §4)
    taBad: {
      address: "127.0.0.33",
      leaf: issueCertificate(caTa, { cn: "tabad", san: { dns: ["wrong.example"] } }),
      extra: [caTa],
    },
    // PKIX-EE(1) / PKIX-TA(0): TLSA constrains an ordinary validation to the configured CA set
    pkixEe: { address: "127.0.0.34", leaf: sipServerCert("pkixee.test") },
    pkixTa: { address: "127.0.0.35", leaf: sipServerCert("pkixta.test") },
    side: { address: "127.0.0.26", leaf: createSelfSigned({ cn: "hosting provider" }) },
    jump: { address: "127.0.0.27", leaf: sipServerCert("jump.test") },
    notlsa: { address: "127.0.0.28", leaf: sipServerCert("notlsa.test") },
    bogus: { address: "127.0.0.29", leaf: sipServerCert("bogus.test") },
    badtarget: { address: "127.0.0.30", leaf: sipServerCert("badtarget.test") },
    plain: { address: "127.0.0.31", leaf: sipServerCert("plain.test") },
    plainfail: { address: "127.0.0.32", leaf: sipServerCert("elsewhere.test") },
  } satisfies Record<string, ServerPlan>;
}

const certs = plans();

export type ServerName = keyof typeof certs;
export type Servers = Readonly<Record<ServerName, TlsTestServer>>;

export interface World {
  readonly lab: DnsLab;
  readonly servers: Servers;
  /** `127.0.0.1:<port>` of the lab's validating resolver. */
  readonly resolverAddress: string;
  readonly caLab: X509Certificate;
  /** PEM file holding caLab (for `siptrust check --ca`). */
  readonly caFile: string;
  /** The client certificate (CN edge.client.test), as PEM and as files for the CLI. */
  readonly client: {
    readonly certPem: string;
    readonly keyPem: string;
    readonly certFile: string;
    readonly keyFile: string;
  };
  stop(): Promise<void>;
}

const sipsNaptr = (zone: string) => naptr("@", 10, 50, "s", "SIPS+D2T", `_sips._tcp.${zone}`);
const tlsaOf = (name: string, usage: number, selector: 0 | 1, cert: X509Certificate) =>
  tlsa(name, usage, selector, 1, tlsaAssociation(cert, selector, 1));

/** One zone per scenario; `p(name)` is the port of a server. */
function zones(s: Servers): LabZone[] {
  const p = (name: ServerName) => s[name].port;
  const addr = (name: ServerName) => s[name].host;
  return [
    {
      name: "ee.test.",
      records: [
        sipsNaptr("ee.test."),
        srv("_sips._tcp", 10, 50, p("ee"), "a.ee.test."),
        a("a", addr("ee")),
        tlsaOf(`_${p("ee")}._tcp.a`, 3, 1, certs.ee.leaf.certificate),
      ],
    },
    {
      name: "fo.test.",
      records: [
        sipsNaptr("fo.test."),
        srv("_sips._tcp", 10, 50, p("foA"), "a.fo.test."),
        srv("_sips._tcp", 20, 50, p("foB"), "b.fo.test."),
        a("a", addr("foA")),
        a("b", addr("foB")),
        tlsaOf(`_${p("foA")}._tcp.a`, 3, 1, decoy.certificate),
        tlsaOf(`_${p("foB")}._tcp.b`, 3, 1, certs.foB.leaf.certificate),
      ],
    },
    {
      // no NAPTR: RFC 3263 §4.1 falls back to _sips._tcp SRV
      name: "ta201.test.",
      records: [
        srv("_sips._tcp", 10, 50, p("ta201"), "s.ta201.test."),
        a("s", addr("ta201")),
        tlsa(`_${p("ta201")}._tcp.s`, 2, 0, 1, tlsaAssociation(caTa.certificate, 0, 1)),
      ],
    },
    {
      name: "ta211.test.",
      records: [
        srv("_sips._tcp", 10, 50, p("ta211"), "s.ta211.test."),
        a("s", addr("ta211")),
        tlsa(`_${p("ta211")}._tcp.s`, 2, 1, 1, tlsaAssociation(taIntermediate.certificate, 1, 1)),
      ],
    },
    {
      name: "tabad.test.",
      records: [
        srv("_sips._tcp", 10, 50, p("taBad"), "s.tabad.test."),
        a("s", addr("taBad")),
        tlsa(`_${p("taBad")}._tcp.s`, 2, 0, 1, tlsaAssociation(caTa.certificate, 0, 1)),
      ],
    },
    {
      name: "pkixee.test.",
      records: [
        srv("_sips._tcp", 10, 50, p("pkixEe"), "s.pkixee.test."),
        a("s", addr("pkixEe")),
        tlsaOf(`_${p("pkixEe")}._tcp.s`, 1, 1, certs.pkixEe.leaf.certificate),
      ],
    },
    {
      name: "pkixta.test.",
      records: [
        srv("_sips._tcp", 10, 50, p("pkixTa"), "s.pkixta.test."),
        a("s", addr("pkixTa")),
        tlsa(`_${p("pkixTa")}._tcp.s`, 0, 0, 1, tlsaAssociation(caLab.certificate, 0, 1)),
      ],
    },
    // secure sideways jumps: NAPTR replacement into hosting.test, whose SRV names a host there
    { name: "side.test.", records: [naptr("@", 10, 50, "s", "SIPS+D2T", "_sips._tcp.side.hosting.test.")] },
    {
      name: "hosting.test.",
      records: [
        srv("_sips._tcp.side", 10, 50, p("side"), "sip.hosting.test."),
        a("sip", addr("side")),
        tlsaOf(`_${p("side")}._tcp.sip`, 3, 1, certs.side.leaf.certificate),
      ],
    },
    // a jump into an unsigned zone: its (non-matching) TLSA must not even be consulted
    {
      name: "jump.test.",
      records: [sipsNaptr("jump.test."), srv("_sips._tcp", 10, 50, p("jump"), "sip.unsigned.test.")],
    },
    {
      name: "unsigned.test.",
      security: "unsigned",
      records: [a("sip", addr("jump")), tlsaOf(`_${p("jump")}._tcp.sip`, 3, 1, decoy.certificate)],
    },
    {
      name: "notlsa.test.",
      records: [
        sipsNaptr("notlsa.test."),
        srv("_sips._tcp", 10, 50, p("notlsa"), "sip.notlsa.test."),
        a("sip", addr("notlsa")),
      ],
    },
    {
      name: "bogus.test.",
      security: "bogus",
      records: [
        sipsNaptr("bogus.test."),
        srv("_sips._tcp", 10, 50, p("bogus"), "sip.bogus.test."),
        a("sip", addr("bogus")),
      ],
    },
    {
      // first SRV target lives in the bogus zone, the second would verify: bogus must still stop everything
      name: "badtarget.test.",
      records: [
        srv("_sips._tcp", 10, 50, p("bogus"), "sip.bogus.test."),
        srv("_sips._tcp", 20, 50, p("badtarget"), "sip.badtarget.test."),
        a("sip", addr("badtarget")),
      ],
    },
    {
      name: "plain.test.",
      security: "unsigned",
      records: [
        sipsNaptr("plain.test."),
        srv("_sips._tcp", 10, 50, p("plain"), "sip.plain.test."),
        a("sip", addr("plain")),
      ],
    },
    {
      name: "plainfail.test.",
      security: "unsigned",
      records: [
        srv("_sips._tcp", 10, 50, p("plainfail"), "sip.plainfail.test."),
        a("sip", addr("plainfail")),
      ],
    },
  ];
}

export async function startWorld(): Promise<World> {
  const closers: Array<() => Promise<void>> = [];
  const dir = mkdtempSync(join(tmpdir(), "siptrust-outbound-"));
  closers.push(async () => rmSync(dir, { recursive: true, force: true }));
  const stop = async () => {
    const results = await Promise.allSettled(closers.splice(0).map((close) => close()));
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
  };
  try {
    const servers = {} as Record<ServerName, TlsTestServer>;
    for (const [name, plan] of Object.entries(certs) as Array<[ServerName, ServerPlan]>) {
      const chain = [plan.leaf, ...(plan.extra ?? [])].map((c) => c.certificatePem).join("");
      const server = await startTlsTestServer(plan.address, {
        certPem: chain,
        keyPem: plan.leaf.privateKeyPem,
      });
      closers.push(() => server.close());
      servers[name] = server;
    }
    const lab = await startDnsLab({ zones: zones(servers), startTimeoutMs: 30_000, maxLifetimeMs: 300_000 });
    closers.push(() => lab.stop());
    const caFile = join(dir, "ca.pem");
    writeFileSync(caFile, caLab.certificatePem);
    const certFile = join(dir, "client.pem");
    const keyFile = join(dir, "client.key");
    writeFileSync(certFile, client.certificatePem);
    writeFileSync(keyFile, client.privateKeyPem, { mode: 0o600 });
    return {
      lab,
      servers,
      resolverAddress: `${lab.resolver.host}:${lab.resolver.port}`,
      caLab: caLab.certificate,
      caFile,
      client: { certPem: client.certificatePem, keyPem: client.privateKeyPem, certFile, keyFile },
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
