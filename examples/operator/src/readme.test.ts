// Keeps the README's "Operator author" walk-through true: every ts snippet
// in that section must typecheck, as a module next to this example's sources
// (so "./controller.js" means this example's controller), with the repo's
// compiler options. The snippets are compiled in memory, never written out.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const here = fileURLToPath(new URL("./", import.meta.url));

function operatorAuthorSnippets(): string[] {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const start = readme.indexOf("\n## Operator author\n");
  const end = readme.indexOf("\n## ", start + 1);
  if (start < 0 || end < 0) throw new Error('README.md has no "## Operator author" section');
  return [...readme.slice(start, end).matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

describe('README "Operator author"', () => {
  const snippets = operatorAuthorSnippets();

  it("walks through the example in ts snippets", () => {
    expect(snippets.length).toBeGreaterThanOrEqual(5);
    expect(snippets.join("\n")).toContain("createLeaderElector(");
    expect(snippets.join("\n")).toContain("runController(");
  });

  it("has snippets that typecheck against the real packages", () => {
    const config = ts.readConfigFile(join(root, "tsconfig.json"), ts.sys.readFile);
    const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
    const virtual = new Map(snippets.map((text, i) => [join(here, `readme-snippet-${i + 1}.ts`), text]));
    const host = ts.createCompilerHost(options);
    const { getSourceFile, fileExists, readFile } = host;
    host.fileExists = (file) => virtual.has(file) || fileExists.call(host, file);
    host.readFile = (file) => virtual.get(file) ?? readFile.call(host, file);
    host.getSourceFile = (file, language, ...rest) => {
      const text = virtual.get(file);
      return text === undefined
        ? getSourceFile.call(host, file, language, ...rest)
        : ts.createSourceFile(file, text, language);
    };
    // Snippets show one step each: a name they declare for the reader need not be used.
    const program = ts.createProgram(
      [...virtual.keys()],
      { ...options, noEmit: true, noUnusedLocals: false },
      host,
    );
    const problems = [...virtual.keys()].flatMap((file) => {
      const source = program.getSourceFile(file)!;
      return [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)].map(
        (d) => {
          const { line } = source.getLineAndCharacterOfPosition(d.start ?? 0);
          return `${file.slice(here.length)}:${line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
        },
      );
    });
    expect(problems).toEqual([]);
  }, 120_000);
});
