#!/usr/bin/env node
// Syntax check of the mobile apps' sources, for a machine without the Android SDK or Xcode:
// every Kotlin file (*.kt, *.kts) under android/ and every Swift file under ios/ is parsed
// with tree-sitter; any ERROR or MISSING node fails the check with file:line:column.
//
// This proves the files parse, not that they type-check: the shell module is compiled and
// tested for real by android/test-shell.sh; the Compose and SwiftUI code compiles only with
// the Android SDK / Xcode (see android/README.md, ios/README.md).
//
// Usage: node scripts/mobile-syntax/check.js [repo root]  (modules: npm ci --ignore-scripts here)
'use strict';

const fs = require('fs');
const path = require('path');
const Parser = require('tree-sitter');
const Kotlin = require('@tree-sitter-grammars/tree-sitter-kotlin');
const Swift = require('tree-sitter-swift');

const root = path.resolve(process.argv[2] || path.join(__dirname, '..', '..'));
const SKIP_DIRS = new Set(['build', '.gradle', '.build', 'DerivedData', 'node_modules', 'generated']);

function sources(dir, exts) {
  const found = [];
  if (!fs.existsSync(dir)) return found;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name) && !entry.name.startsWith('.')) found.push(...sources(full, exts));
    } else if (exts.some((e) => entry.name.endsWith(e))) {
      found.push(full);
    }
  }
  return found.sort();
}

// Every ERROR or MISSING node below `node`, as "line:column what".
function problems(node, out = []) {
  if (node.type === 'ERROR' || node.isMissing) {
    const at = `${node.startPosition.row + 1}:${node.startPosition.column + 1}`;
    out.push(`${at} ${node.isMissing ? `missing ${node.type}` : 'syntax error'}`);
    if (node.type === 'ERROR') return out; // its children are noise
  }
  for (const child of node.children) if (child.hasError || child.isMissing) problems(child, out);
  return out;
}

function check(files, language) {
  const parser = new Parser();
  parser.setLanguage(language);
  let bad = 0;
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    // The default 32 KiB buffer truncates larger files; give the whole text.
    const tree = parser.parse(text, null, { bufferSize: Math.max(32 * 1024, 2 * Buffer.byteLength(text)) });
    const found = tree.rootNode.hasError ? problems(tree.rootNode) : [];
    if (found.length) {
      bad += 1;
      for (const p of found) console.error(`${path.relative(root, file)}:${p}`);
    }
  }
  return bad;
}

const kotlin = sources(path.join(root, 'android'), ['.kt', '.kts']);
const swift = sources(path.join(root, 'ios'), ['.swift']);
if (kotlin.length === 0 || swift.length === 0) {
  console.error(`mobile syntax: expected Kotlin and Swift sources, found ${kotlin.length} and ${swift.length}`);
  process.exit(1);
}
const badKotlin = check(kotlin, Kotlin);
const badSwift = check(swift, Swift);
console.log(`mobile syntax: ${kotlin.length} Kotlin files (${badKotlin} with errors), ` +
  `${swift.length} Swift files (${badSwift} with errors)`);
process.exit(badKotlin + badSwift === 0 ? 0 : 1);
