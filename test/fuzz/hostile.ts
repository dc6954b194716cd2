import fc from "fast-check";

/**
 * Hostile strings, each carrying the case's canary id. The payload command is `fuzzpwn <id>` (a logging stand-in
 * in the sandbox that leaves /tmp/fuzz-canary-<id>) or `touch /tmp/fuzz-canary-<id>`, wrapped in every way a
 * value could break out of its place: shell syntax ($(...), backticks, ;, &&, |, quotes, newline, CR), here-document
 * terminators of this library's scripts, TOML/JSON/YAML structure, option-looking words and `..` paths; glued to
 * pieces of valid values (a version, a path, a URL) so that many come close to being accepted.
 */
export function payloads(id: number): string[] {
    const run = `fuzzpwn ${id}`;
    const touch = `touch /tmp/fuzz-canary-${id}`;
    return [
        `$(${run})`,
        `\`${run}\``,
        `;${run};`,
        `\n${run}\n`,
        `\r\n${run}\r\n`,
        `'; ${run}; '`,
        `"; ${run}; "`,
        `' "$(${run})" '`,
        `&& ${run}`,
        `|| ${run} ||`,
        `| ${run}`,
        `& ${run} &`,
        `$(${touch})`,
        ` ${touch} `,
        `\n${touch}\n`,
        `\\'$(${run})\\'`,
        `\u2028${run}\u2029`,
        `\u0085${run}`,
        `\${IFS}${run.replace(" ", "${IFS}")}`,
        `--exec=${run}`,
        `-o /tmp/fuzz-canary-${id}`,
        `../../../../tmp/fuzz-canary-${id}`,
        `\nNVIDIA_GPU_DAEMON_JSON_EOF\n${run}\n`,
        `\nNVIDIA_GPU_CONFIG_TOML_EOF\n${run}\n`,
        `\nEOF\n${run}\n`,
        `"\n[plugins."fuzz"]\nrun = "${run}"\n`,
        `'''\n${run}\n'''`,
        `","path":"${run}","x":"`,
        `"}}, "runtimes": {"fuzz": {"path": "${run}"}}, "x": {"y": "`,
        `\n- ${run}\n`,
        `: |\n  ${run}`,
        `\u0000${run}`,
        `\u007f${run}`,
        `\t${run}\t`,
        `%s%n$(${run})`,
        `*$(${run})?`,
        `~$(${run})`,
        `\\\n${run}`,
    ];
}

const PIECES = [
    "",
    "580",
    "580.95.05",
    "1.20.0-1",
    "nvidia",
    "alice",
    "/home/alice",
    "/etc/cdi/",
    "/var/run/cdi/",
    ".yaml",
    ".json",
    "https://mirror.example/",
    "GPU-",
    "0",
    "all",
    "-x",
    "--foo",
    "..",
    "../",
    "/",
    "//",
    " ",
    "\0",
    "\u007f",
    "\r",
    "\n",
    "\u2028",
    "\\",
    "'",
    '"',
    "`",
    "$",
    "=",
    "#",
    "\u00e9\u4e2d\ud83d\ude80",
];

/** A hostile value for case `id`: a payload among one to four pieces, sometimes padded to a very long string. */
export function hostileValue(id: number): fc.Arbitrary<string> {
    const piece = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...PIECES) }, { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 6 }) });
    return fc
        .tuple(
            fc.array(piece, { maxLength: 2 }),
            fc.constantFrom(...payloads(id)),
            fc.array(piece, { maxLength: 2 }),
            fc.oneof({ weight: 19, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1000, max: 70000 }) }),
        )
        .map(([before, payload, after, pad]) => `${before.join("")}${payload}${after.join("")}${"A".repeat(pad)}`);
}
