import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import YAML from "yaml";
import { REPO_ROOT } from "../../helpers/paths";

interface Comment {
    id: number;
    body: string;
    user: { type: string };
}

/** Runs the workflow's github-script step against an in-memory pull request, as actions/github-script would. */
async function runCommentStep(comments: Comment[], plan: string): Promise<void> {
    const workflow = YAML.parse(fs.readFileSync(path.join(REPO_ROOT, "examples/github-actions/gpu-plan.yml"), "utf8"));
    const step = workflow.jobs.plan.steps.find((s: { name?: string }) => s.name === "Comment");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gha-"));
    fs.writeFileSync(path.join(dir, "plan.md"), plan);
    const cwd = process.cwd();
    let next = 1000 + comments.length;
    const rest = {
        issues: {
            listComments: async () => ({ data: comments }),
            createComment: async (a: { body: string }) => void comments.push({ id: next++, body: a.body, user: { type: "Bot" } }),
            updateComment: async (a: { comment_id: number; body: string }) => void (comments.find((c) => c.id === a.comment_id)!.body = a.body),
        },
    };
    const github = { rest, paginate: async (fn: () => Promise<{ data: Comment[] }>) => [...(await fn()).data] };
    const context = { repo: { owner: "o", repo: "r" }, issue: { number: 7 } };
    const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor;
    try {
        process.chdir(dir);
        await new AsyncFunction("github", "context", "require", step.with.script)(github, context, require);
    } finally {
        process.chdir(cwd);
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

describe("examples/github-actions/gpu-plan.yml", () => {
    it("keeps one sticky plan comment: the first push creates it, later pushes update it", async () => {
        const comments: Comment[] = [{ id: 1, body: "LGTM", user: { type: "User" } }];
        await runCommentStep(comments, "### plan one\n");
        await runCommentStep(comments, "### plan two\n");
        await runCommentStep(comments, "### plan three\n");
        assert.equal(comments.length, 2);
        assert.equal(comments[0].body, "LGTM");
        assert.match(comments[1].body, /### plan three/);
        assert.doesNotMatch(comments[1].body, /plan one|plan two/);
    });

    it("leaves a user's comment that quotes the plan alone", async () => {
        const comments: Comment[] = [];
        await runCommentStep(comments, "### plan one\n");
        comments.push({ id: 5, body: comments[0].body, user: { type: "User" } });
        await runCommentStep(comments, "### plan two\n");
        assert.equal(comments.length, 2);
        assert.match(comments[0].body, /plan two/);
        assert.match(comments[1].body, /plan one/);
    });
});
