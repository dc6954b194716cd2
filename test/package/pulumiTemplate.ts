/**
 * The compiler options of `pulumi new typescript` (github.com/pulumi/templates, typescript/tsconfig.json):
 * strict, and neither esModuleInterop nor skipLibCheck, so every dependency's .d.ts the package pulls in is checked.
 */
export const PULUMI_TEMPLATE_TSCONFIG = {
    compilerOptions: {
        strict: true,
        outDir: "bin",
        target: "es2020",
        module: "commonjs",
        moduleResolution: "node",
        sourceMap: true,
        experimentalDecorators: true,
        pretty: true,
        noFallthroughCasesInSwitch: true,
        noImplicitReturns: true,
        forceConsistentCasingInFileNames: true,
    },
    files: ["index.ts"],
};
