// ESLint (flat config): typescript-eslint's recommended rules, and Pulumi's own rules, which need type
// information (an Output in a template literal prints "Calling [toString] on an [Output<T>] is not supported").
"use strict";
const js = require("@eslint/js");
const tseslint = require("typescript-eslint");
const pulumi = require("@pulumi/eslint-plugin");

module.exports = tseslint.config(
    {
        ignores: [
            "dist/",
            "dist.new-*/",
            "dist.old-*/",
            "node_modules/",
            ".tmp/",
            ".device-out/",
            "test/fixtures/",
            "bench/results/",
            "tools/",
            "examples/**/node_modules/",
            "test/consumers/projects/",
        ],
    },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
        files: ["**/*.ts"],
        languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: __dirname } },
        plugins: { "@pulumi": pulumi },
        rules: {
            "@pulumi/no-output-in-template-literal": "error",
            "@pulumi/no-output-instance-in-template-literal": "error",
            // Unused names are already errors of tsc (noUnusedLocals); `_name` marks an intended one.
            "@typescript-eslint/no-unused-vars": ["error", { args: "none", varsIgnorePattern: "^_", caughtErrors: "none" }],
            // The validators and parsers match control characters on purpose (NUL, C0, DEL: issue 14).
            "no-control-regex": "off",
            // Lazy require() is deliberate: it keeps @pulumi/pulumi and ssh2 out of a CLI cold start, and lets
            // tests load the library after installing Pulumi's mocks.
            "@typescript-eslint/no-require-imports": "off",
            // Found in code that predates the linter; shown, to be fixed by its owners, without failing the build.
            "no-useless-escape": "warn",
            "no-regex-spaces": "warn",
            "@typescript-eslint/no-explicit-any": "warn",
        },
    },
    {
        // Tests reach into untyped JSON, mocks and engine output.
        files: ["test/**/*.ts", "bench/**/*.ts"],
        rules: { "@typescript-eslint/no-explicit-any": "off" },
    },
    {
        files: ["**/*.js"],
        languageOptions: {
            sourceType: "commonjs",
            globals: { require: "readonly", module: "writable", __dirname: "readonly", process: "readonly", console: "readonly" },
        },
        rules: { "@typescript-eslint/no-require-imports": "off" },
    },
);
