#!/usr/bin/env node
// Swift syntax check for machines without a Swift toolchain: parses each file with
// tree-sitter-swift and fails on any ERROR or MISSING node, printing file:line:column.
//
// The grammar (0.7.1) misreads three valid constructs that UniFFI's output uses, so they are
// blanked before parsing, with spaces, keeping every line and column where it was:
//   1. `#if swift(>=5.8)` / `@_documentation(visibility: private)` / `#endif` wrapped around
//      a declaration (the grammar cannot attach an attribute inside `#if` to what follows);
//   2. the `nonisolated(unsafe)` modifier (Swift 5.10) in front of a declaration;
//   3. the `()` of `let writeReturn = { () }`, a closure returning Void, in the glue of a
//      foreign trait's method that returns nothing (the app model's `AppShell`); `{    }`,
//      an empty closure, parses and means the same.
// Nothing else is touched: every other construct must parse as written.
'use strict';

const fs = require('fs');
const Parser = require('tree-sitter');
const Swift = require('tree-sitter-swift');

const blank = (text) => text.replace(/[^\n]/g, ' ');

function blankMisreadConstructs(source) {
  return source
    .replace(/^[ \t]*#if swift\(>=5\.8\)\n[ \t]*@_documentation\([^)\n]*\)\n[ \t]*#endif[ \t]*$/gm, blank)
    .replace(/\bnonisolated\(unsafe\)/g, blank)
    .replace(/(\blet writeReturn = \{ )\(\)( \})/g, (_, before, after) => before + '  ' + after);
}

function problems(tree) {
  const found = [];
  const cursor = tree.walk();
  // Depth-first walk with a cursor: the generated files are large, recursion is not needed.
  for (;;) {
    const node = cursor.currentNode;
    const missing = typeof node.isMissing === 'function' ? node.isMissing() : node.isMissing;
    if (node.type === 'ERROR' || missing) {
      const where = `${node.startPosition.row + 1}:${node.startPosition.column + 1}`;
      found.push(`${where}: ${missing ? `MISSING ${node.type}` : 'ERROR'}`);
    }
    if (node.hasError && cursor.gotoFirstChild()) continue;
    while (!cursor.gotoNextSibling()) {
      if (!cursor.gotoParent()) return found;
    }
  }
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: check-syntax.js FILE.swift...');
  process.exit(2);
}
const parser = new Parser();
parser.setLanguage(Swift);
let bad = 0;
for (const file of files) {
  const source = blankMisreadConstructs(fs.readFileSync(file, 'utf8'));
  // The callback form reads sources of any size (a plain string is limited to 32 KiB).
  const tree = parser.parse((index) => source.slice(index, index + 16384));
  const found = problems(tree);
  for (const p of found) console.error(`${file}:${p}`);
  if (found.length) bad += 1;
  console.log(`${found.length ? 'FAIL' : 'ok  '} ${file} (${source.split('\n').length} lines)`);
}
if (bad) {
  console.error(`swift syntax: ${bad} of ${files.length} files have errors`);
  process.exit(1);
}
