/** Layering of DESIGN.md: data flows one way; pure layers (sip, pki, dane, auth) do no I/O. */
const PURE = "^src/(sip|pki|dane|auth)/";
const EFFECT_FOLDERS = "^src/(dns|tls|transport|proxy|cli|config)/";
// Order of the layers, lowest first; a layer may import only layers below it.
const ORDER = ["sip", "pki", "auth", "dane", "dns", "tls", "transport", "proxy", "config", "cli"];

const upward = [];
for (let i = 0; i < ORDER.length; i++) {
  const higher = ORDER.slice(i + 1).filter((h) => !(ORDER[i] === "proxy" && h === "config"));
  if (higher.length === 0) continue;
  upward.push({
    name: `no-upward-from-${ORDER[i]}`,
    comment: `${ORDER[i]}/ is below ${higher.join(", ")} and must not import them`,
    severity: "error",
    from: { path: `^src/${ORDER[i]}/` },
    to: { path: `^src/(${higher.join("|")})/` },
  });
}

module.exports = {
  forbidden: [
    {
      name: "pure-layers-no-effects",
      comment: "sip/ pki/ dane/ auth/ are pure: no effectful folder",
      severity: "error",
      from: { path: PURE },
      to: { path: EFFECT_FOLDERS },
    },
    {
      name: "pure-layers-no-io-builtins",
      comment: "sip/ pki/ dane/ auth/ are pure: no sockets, files or DNS",
      severity: "error",
      from: { path: PURE },
      to: {
        dependencyTypes: ["core"],
        path: "^(node:)?(net|tls|dgram|fs|fs/promises|dns|dns/promises|http|https|child_process|cluster|worker_threads)$",
      },
    },
    {
      name: "no-circular",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    ...upward,
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default"],
    },
  },
};
