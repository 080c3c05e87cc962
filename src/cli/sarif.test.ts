// SPDX-License-Identifier: GPL-2.0-only
// --format=sarif: the log is valid against the SARIF 2.1.0 schema (the copy @microsoft/jest-sarif
// ships, checked with ajv), holds one result per warning in objtool's words with the file and the
// instruction's byte offset, and one rule per kind of warning.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Log } from 'sarif';
import { runCheckCommandJobs } from './check-command.js';
import { ORCTOOL_VERSION, warningKind } from './sarif.js';
import { compileFixture, makeTempDir, removeDir, repoRoot, srcPath } from '../testing/toolchain.js';
import { corpusAvailable, corpusModules } from '../testing/corpus.js';
import { ElfFile } from '../elf/reader.js';

const require = createRequire(import.meta.url);

function validator(): (log: unknown) => string[] {
  type Validate = ((d: unknown) => boolean) & { errors?: { dataPath: string; message: string }[] };
  const Ajv = require('ajv') as new (o: object) => { addMetaSchema(s: object): void; compile(s: object): Validate };
  const schema = JSON.parse(readFileSync(require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8'));
  // (the SARIF schema is draft-04, which ajv 6 knows but does not load by default)
  const ajv = new Ajv({ allErrors: true, schemaId: 'auto' });
  ajv.addMetaSchema(require('ajv/lib/refs/json-schema-draft-04.json') as object);
  const validate = ajv.compile(schema);
  return (log) => (validate(log) ? [] : (validate.errors ?? []).map((e) => `${e.dataPath} ${e.message}`));
}

async function run(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const status = await runCheckCommandJobs(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { status, stdout, stderr };
}

describe('--format=sarif', () => {
  let dir = '';
  before(() => (dir = makeTempDir()));
  after(() => removeDir(dir));

  it('names the version package.json has', () => {
    assert.equal(ORCTOOL_VERSION, JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version);
  });

  it('gives a valid log with a result per warning, located in the file', async () => {
    const obj = compileFixture(srcPath('analysis', 'fixtures', 'stack-errors.S'), dir);
    const text = await run(['--orc', '--uaccess', '--dry-run', obj]);
    const warnings = text.stderr.split('\n').filter((l) => l.includes('warning: objtool:'));
    assert.ok(warnings.length >= 3, text.stderr);
    const s = await run(['--orc', '--uaccess', '--dry-run', '--format=sarif', obj]);
    assert.equal(s.status, text.status);
    const log = JSON.parse(s.stdout) as Log;
    assert.deepEqual(validator()(log), []);
    const results = log.runs[0]!.results!;
    assert.equal(results.length, warnings.length);
    const elf = ElfFile.open(obj);
    let located = 0;
    results.forEach((r, i) => {
      // objtool's words: the text line is "<file>: warning: objtool: <location>: <message>".
      assert.equal(`${obj}: warning: objtool: ${r.message.text}`, warnings[i]);
      const loc = r.locations![0]!;
      assert.equal(loc.physicalLocation!.artifactLocation!.uri, obj);
      // (a warning about a whole function, "falls through", has no instruction to point at)
      const p = r.properties as { section?: string; sectionOffset: number } | undefined;
      if (p?.section) {
        located++;
        assert.equal(loc.physicalLocation!.region!.byteOffset, elf.sectionByName(p.section)!.offset + p.sectionOffset);
      }
      assert.equal(log.runs[0]!.tool.driver.rules![r.ruleIndex!]!.id, r.ruleId);
    });
    assert.ok(located >= results.length - 1);
  });

  it('one rule per kind of warning', () => {
    assert.equal(warningKind('stack state mismatch: cfa1=4+16 cfa2=4+24'), 'stack state mismatch');
    assert.equal(warningKind('call to memset() with UACCESS enabled'), 'call to %s() with UACCESS enabled');
    assert.equal(warningKind('relocation to !ENDBR: foo+0x12'), 'relocation to !ENDBR');
    assert.equal(warningKind('unreachable instruction'), 'unreachable instruction');
  });

  it('is valid on a corpus module with warnings', { skip: !corpusAvailable('7.3-cloud') ? 'corpus not fetched' : false }, async () => {
    const check = validator();
    let seen = 0;
    for (const m of corpusModules('7.3-cloud').slice(0, 60)) {
      const s = await run(['--orc', '--link', '--module', '--uaccess', '--dry-run', '--format=sarif', '--kernel=7.3', m]);
      const log = JSON.parse(s.stdout) as Log;
      assert.deepEqual(check(log), [], m);
      seen += log.runs[0]!.results!.length;
    }
    assert.ok(seen > 0, 'no warnings in the sample');
  });
});
