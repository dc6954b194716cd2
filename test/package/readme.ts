import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../helpers/paths";

export interface CodeBlock {
    lang: string;
    text: string;
}

/**
 * The fenced code blocks of one README section, as written: from its heading (matched whole) to the next
 * heading of the same or a higher level.
 */
export function readmeBlocks(heading: string, readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8")): CodeBlock[] {
    const lines = readme.split("\n");
    const start = lines.indexOf(heading);
    if (start === -1) throw new Error(`README.md has no heading ${JSON.stringify(heading)}`);
    const level = /^#+/.exec(heading)![0].length;
    const blocks: CodeBlock[] = [];
    let open: CodeBlock | undefined;
    for (const line of lines.slice(start + 1)) {
        if (open) {
            if (line.startsWith("```")) {
                blocks.push(open);
                open = undefined;
            } else open.text += `${line}\n`;
            continue;
        }
        const h = /^(#+) /.exec(line);
        if (h && h[1].length <= level) break;
        if (line.startsWith("```")) open = { lang: line.slice(3).trim(), text: "" };
    }
    return blocks;
}
