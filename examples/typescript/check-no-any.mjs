// Fails when the generated types or the usage code contain the `any` type: written out
// (`any`, `as any`, `any[]`) in any file of the project, or inferred for an expression,
// parameter or variable in hand-written code (say, from JSON.parse or an untyped catch).
import path from "node:path";
import ts from "typescript";

const configPath = ts.findConfigFile(".", ts.sys.fileExists, "tsconfig.json");
if (!configPath) throw new Error("tsconfig.json not found");
const { config } = ts.readConfigFile(configPath, ts.sys.readFile);
const parsed = ts.parseJsonConfigFileContent(config, ts.sys, path.dirname(configPath));
const program = ts.createProgram(parsed.fileNames, parsed.options);
const checker = program.getTypeChecker();
const found = [];

function report(file, node, what) {
  const { line, character } = file.getLineAndCharacterOfPosition(node.getStart(file));
  const name = path.relative(".", file.fileName);
  found.push(`${name}:${line + 1}:${character + 1}: ${what}: ${node.getText(file).slice(0, 60)}`);
}

// Only value positions: a name in a type (`components["schemas"]`) or an import has no
// value type, and the checker calls it `any`. Written-out `any` is caught everywhere.
function inferredAny(node) {
  if (!ts.isIdentifier(node) && !ts.isCallExpression(node) && !ts.isAwaitExpression(node)) {
    return false;
  }
  return (checker.getTypeAtLocation(node).flags & ts.TypeFlags.Any) !== 0;
}

for (const file of program.getSourceFiles()) {
  if (!parsed.fileNames.includes(file.fileName)) continue; // not node_modules or lib.d.ts
  const generated = file.isDeclarationFile;
  const visit = (node, inType) => {
    if (node.kind === ts.SyntaxKind.AnyKeyword) report(file, node, "explicit any");
    else if (ts.isImportDeclaration(node)) return;
    else if (!generated && !inType && inferredAny(node)) report(file, node, "inferred any");
    const typeHere = inType || ts.isTypeNode(node) || ts.isTypeAliasDeclaration(node);
    ts.forEachChild(node, (child) => visit(child, typeHere));
  };
  visit(file, false);
}

if (found.length > 0) {
  console.error(`the any type, ${found.length} time(s):\n${found.join("\n")}`);
  process.exit(1);
}
