/**
 * Kamailio 5.6 as the reference proxy of the race: tm + rr, TLS with client certificates required and
 * verified against the bench CA (the same certificates siptrust uses), relaying every dialog-creating
 * request to the SIPp UAS over UDP and in-dialog requests along their Route set (loose routing).
 *
 * Settings the issue gives for Kamailio 5.6.3 on this machine kind: `-x tlsf -m 4096` (the default
 * allocator and a small shared memory do not sustain thousands of calls/s), `tcp_children=1` (more than one
 * TLS worker crashed under connection churn, kamailio issue 3791, fixed in 5.7+), `children=1` (more UDP
 * workers reorder 180 and 200). Each instance gets its own directory, runs in the foreground (`-DD -E`) in its
 * own process group, and is killed as a group.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { TempDir } from "../../test/interop/tls/temp-dir.js";
import { until } from "../../test/interop/tls/wait.js";
import type { BenchPki } from "./pki.js";
import { startProcess, type Proc } from "./processes.js";
import { listening, udpBound } from "./sockets.js";

const MODULES = "/usr/lib/x86_64-linux-gnu/kamailio/modules";

export interface KamailioBenchOptions {
  readonly dir: TempDir;
  readonly pki: BenchPki;
  readonly tlsPort: number;
  readonly udpPort: number;
  readonly uasPort: number;
  /** Shared memory in MiB (-m). */
  readonly sharedMemoryMb: number;
}

export function kamailioTlsConfig(pki: BenchPki): string {
  // The same domain for the default and the listener: client certificates required and verified (OpenSSL
  // chain check against the bench CA), TLS 1.2 or later.
  const body = [
    "method = TLSv1.2+",
    "verify_certificate = yes",
    "require_certificate = yes",
    `certificate = ${pki.serverCert}`,
    `private_key = ${pki.serverKey}`,
    `ca_list = ${pki.caFile}`,
    "",
  ].join("\n");
  return `[server:default]\n${body}\n[client:default]\nverify_certificate = no\nrequire_certificate = no\n`;
}

export function kamailioConfig(o: KamailioBenchOptions, tlsFile: string): string {
  return `#!KAMAILIO
debug=-1
log_stderror=yes
children=1
tcp_children=1
auto_aliases=no
enable_tls=yes
dns=no
rev_dns=no
use_dns_cache=no
tcp_connect_timeout=2
tcp_max_connections=16384
tls_max_connections=16384
tcp_accept_no_cl=yes
listen=udp:127.0.0.1:${o.udpPort}
listen=tls:127.0.0.1:${o.tlsPort}

mpath="${MODULES}/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "textops.so"
loadmodule "tls.so"
modparam("tls", "config", "${tlsFile}")
modparam("tm", "fr_timer", 5000)
modparam("tm", "fr_inv_timer", 10000)

request_route {
  if (!mf_process_maxfwd_header("10")) {
    sl_send_reply("483", "Too Many Hops");
    exit;
  }
  if (has_totag()) {
    # In-dialog (ACK for 2xx, BYE): follow the Route set we recorded.
    if (loose_route()) {
      t_relay();
      exit;
    }
    if (is_method("ACK") && t_check_trans()) {
      t_relay();
      exit;
    }
    sl_send_reply("404", "Not here");
    exit;
  }
  if (is_method("CANCEL")) {
    if (t_check_trans()) t_relay();
    exit;
  }
  # Absorb retransmissions of a request whose transaction exists.
  t_check_trans();
  record_route();
  $du = "sip:127.0.0.1:${o.uasPort}";
  if (!t_relay()) {
    sl_reply_error();
  }
  exit;
}
`;
}

export async function startKamailioBench(o: KamailioBenchOptions): Promise<Proc> {
  const tlsFile = o.dir.write("kamailio-tls.cfg", kamailioTlsConfig(o.pki));
  const cfg = o.dir.write("kamailio.cfg", kamailioConfig(o, tlsFile));
  const run = join(o.dir.path, "kamailio-run");
  mkdirSync(run, { recursive: true });
  const args = ["-DD", "-E", "-f", cfg, "-x", "tlsf", "-m", String(o.sharedMemoryMb), "-M", "32"];
  args.push("-Y", run, "-w", o.dir.path);
  const proc = startProcess("kamailio", "kamailio", args, { cwd: o.dir.path });
  try {
    const ready = (): boolean => listening(o.tlsPort) && udpBound(o.udpPort);
    await until(() => !proc.running() || ready(), "kamailio to bind its sockets", 20_000);
    if (!proc.running()) throw new Error(`kamailio exited at start:\n${proc.output()}`);
    return proc;
  } catch (err) {
    await proc.kill();
    throw err;
  }
}
