/**
 * Renders an outbound verification for people (`siptrust check`) and for machines (`--json`), in the
 * spirit of Postfix's posttls-finger: every DNS step with its DNSSEC mark and TTL, every target with its
 * TLSA records, chain, identities and verdict, and on failure what to change.
 */
import type { OutboundAttempt, OutboundResult } from "../../tls/outbound.js";
import type { TlsaRecord } from "../../dane/tlsa.js";

export function checkJson(result: OutboundResult): unknown {
  return {
    uri: result.uri,
    domain: result.domain,
    delegation: result.delegation,
    warnings: result.warnings,
    steps: result.steps.map((s) => ({
      name: s.name,
      type: s.type,
      status: s.status,
      ttl: s.ttl,
      answers: s.answers,
      code: s.code ?? null,
      detail: s.detail ?? null,
    })),
    targets: result.attempts.map(targetJson),
    result: {
      ok: result.ok,
      host: result.target?.host ?? null,
      port: result.target?.port ?? null,
      method: result.method ?? null,
      code: result.code,
      detail: result.detail,
    },
  };
}

function targetJson(attempt: OutboundAttempt): unknown {
  return {
    host: attempt.host,
    port: attempt.port,
    transport: attempt.transport,
    srvHost: attempt.srvHost ?? null,
    delegation: attempt.delegation,
    sni: attempt.sni,
    tlsa: (attempt.tlsa?.records ?? []).map(tlsaText),
    tlsaStatus: attempt.tlsa?.status ?? null,
    tls: attempt.tls ?? null,
    chain: attempt.chain.map((c) => ({
      subject: c.subject,
      issuer: c.issuer,
      fingerprintSha256: c.fingerprint256,
    })),
    identities: attempt.identities,
    verification: {
      ok: attempt.verification.ok,
      method: attempt.verification.method,
      code: attempt.verification.code,
      detail: attempt.verification.detail,
      matchedTlsa: attempt.verification.matchedTlsa ?? null,
    },
  };
}

export function tlsaText(record: TlsaRecord): string {
  return `${record.usage} ${record.selector} ${record.matchingType} ${Buffer.from(record.data).toString("hex")}`;
}

const MARK: Record<string, string> = {
  secure: "[secure]",
  insecure: "[insecure]",
  bogus: "[BOGUS]",
  error: "[error]",
};

export function checkText(result: OutboundResult): string {
  const lines: string[] = [`${result.uri}: SIP domain ${result.domain}`, "", "DNS (RFC 3263):"];
  for (const step of result.steps) {
    const answers = step.answers.length > 0 ? step.answers.join(" | ") : `(${step.code ?? "no records"})`;
    lines.push(`  ${MARK[step.status] ?? step.status} ${step.type} ${step.name} ttl=${step.ttl}: ${answers}`);
    if ((step.status === "bogus" || step.status === "error") && step.detail)
      lines.push(`      ${step.detail}`);
  }
  lines.push(`  delegation: ${result.delegation}${delegationNote(result.delegation)}`);
  for (const warning of result.warnings) lines.push(`  WARNING: ${warning}`);
  result.attempts.forEach((attempt, i) => lines.push("", ...attemptText(attempt, i + 1)));
  lines.push("", verdictText(result));
  return lines.join("\n") + "\n";
}

function delegationNote(delegation: OutboundResult["delegation"]): string {
  if (delegation === "secure") return " (NAPTR/SRV signed: TLSA decides when present)";
  if (delegation === "insecure") return " (not DNSSEC-signed end to end: RFC 5922 against the SIP domain)";
  return " (DNSSEC validation failed: no fallback)";
}

function attemptText(attempt: OutboundAttempt, n: number): string[] {
  const lines = [
    `Target ${n}: ${attempt.host}:${attempt.port}/${attempt.transport}${attempt.srvHost ? ` (SRV ${attempt.srvHost})` : ""}, ${attempt.delegation} path, ${attempt.sni === null ? "no SNI (IP literal)" : `SNI ${attempt.sni}`}`,
  ];
  if (attempt.tlsa) {
    const count = attempt.tlsa.records.length;
    lines.push(`  TLSA [${attempt.tlsa.status}]: ${count === 0 ? "none" : `${count} record(s)`}`);
    const matched = attempt.verification.matchedTlsa;
    attempt.tlsa.records.forEach((record, i) => {
      const mark = matched?.index === i ? `   <- matched at depth ${matched.depth}` : "";
      lines.push(`    #${i} ${tlsaText(record)}${mark}`);
    });
  } else if (attempt.delegation === "insecure") {
    lines.push("  TLSA not looked up (insecure path: DANE does not apply)");
  }
  if (attempt.tls) lines.push(`  TLS ${attempt.tls.version} ${attempt.tls.cipher}`);
  attempt.chain.forEach((cert, depth) =>
    lines.push(`  chain[${depth}] ${oneLine(cert.subject)} (issuer ${oneLine(cert.issuer)})`),
  );
  for (const id of attempt.identities) lines.push(`  identity ${id.kind} ${id.value} (${id.source})`);
  const v = attempt.verification;
  // Without a handshake nothing was verified, so no method applies.
  const by = attempt.tls ? ` by ${v.method}` : " before verification";
  lines.push(`  ${v.ok ? "VERIFIED" : "FAILED"}${by}: ${v.code}: ${v.detail}`);
  return lines;
}

function verdictText(result: OutboundResult): string {
  if (result.ok)
    return `Verdict: OK, ${result.target?.host}:${result.target?.port} verified by ${result.method} (${result.code})`;
  return `Verdict: FAILED (${result.code}): ${result.detail}\nWhat to change: ${advice(result.code)}`;
}

/** One hint per failure family; the codes come from pki/, dane/, dns/ and tls/. */
export function advice(code: string): string {
  if (code.startsWith("rfc5922") || code === "no-domain-identities") {
    return "the server certificate must name the SIP domain as a SAN URI sip:<domain> (or, lacking any sip: URI, a SAN dNSName)";
  }
  if (code === "unknown-issuer")
    return "pass the CA that issued the server certificate with --ca, or have the server send its intermediates";
  if (code === "expired" || code === "not-yet-valid")
    return "renew the server certificate (check the clocks too)";
  if (code === "hostname-mismatch")
    return "under DANE-TA/PKIX the certificate must name the SRV target host (or the SIP domain) as a SAN dNSName or sip: URI (RFC 7673 §4)";
  if (code.startsWith("dane"))
    return "publish TLSA records that match the certificate the server presents (siptrust tlsa <cert>)";
  if (code.startsWith("eku"))
    return "issue the certificate with id-kp-sipDomain or serverAuth in extendedKeyUsage (RFC 5924)";
  if (code.includes("bogus"))
    return "fix the zone's DNSSEC signatures or DS records; a bogus answer is never used";
  if (code === "tlsa-lookup-failed" || code === "dns-error")
    return "the resolver could not answer (see the DNS steps); check --resolver and the zone's name servers";
  if (code === "no-targets" || code === "service-unavailable")
    return "publish NAPTR/SRV records (or an A/AAAA record) for the SIP domain";
  if (code === "connect-failed" || code === "handshake-timeout")
    return "make sure the SIP server listens for TLS on the located port";
  return "see the detail above";
}

function oneLine(dn: string): string {
  return dn.split("\n").join(", ");
}
