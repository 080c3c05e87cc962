// SPDX-License-Identifier: GPL-2.0-only
// The fuzzers' findings (scripts/fuzz.sh, src/fuzz/) as regression tests. Each builds its input at
// test time, from an analysis fixture assembled here and the precise byte damage the finding
// needed (no binary is committed), and runs orctool's command on it in a child process (main(),
// as bin/orctool runs it, so that a hang cannot hang the suite). orctool must answer: exit status
// 0, or 1 with its one-line typed error (`orctool: error: ...`), within the time limit; never an
// internal error (an exception other than OrctoolError/UsageError) or a hang.
// A finding the engine still has is marked todo (reported, not failed) until its fix; all are fixed.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ElfFile } from '../elf/reader.js';
import { SHDR_SIZE, SYM_SIZE } from '../elf/constants.js';
import { compileFixture, makeTempDir, removeDir, repoRoot, srcPath } from '../testing/toolchain.js';

/** Seconds a command may take on these small objects before it counts as a hang. */
const LIMIT_S = 20;

interface Answer {
  status: number | null;
  stderr: string;
  timedOut: boolean;
}

/** main(argv) of this build in a child process, with the time limit. */
function orctool(argv: string[]): Answer {
  const mainUrl = pathToFileURL(join(repoRoot, 'dist', 'cli', 'main.js')).href;
  const code = `import { main } from ${JSON.stringify(mainUrl)}; process.exitCode = await main(JSON.parse(process.argv[1]));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code, JSON.stringify(argv)], {
    encoding: 'utf8', timeout: LIMIT_S * 1000, maxBuffer: 1 << 26,
    env: { ...process.env, ORCTOOL_DEBUG: '1', ORCTOOL_SERVER: '0', OBJTOOL_ARGS: '', VERSION: '', PATCHLEVEL: '' },
  });
  const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
  return { status: r.status, stderr: r.stderr ?? '', timedOut };
}

/** Success, or a refusal in orctool's words; not an internal error, not a hang. */
function assertAnswers(a: Answer, what: string): void {
  assert.ok(!a.timedOut, `${what}: no answer in ${LIMIT_S} s (a hang)`);
  const internal = /internal error: (.*)/.exec(a.stderr)?.[1];
  assert.equal(internal, undefined, `${what}: internal error: ${internal}\n${a.stderr.split('\n').slice(0, 8).join('\n')}`);
  assert.ok(a.status === 0 || a.status === 1, `${what}: exit status ${a.status}\n${a.stderr.slice(0, 2000)}`);
  if (a.status === 1 && /orctool: error: /.test(a.stderr)) assert.match(a.stderr, /^orctool: error: .+$/m);
}

/** Byte offset of a section's header. */
function shdr(elf: ElfFile, name: string): number {
  const s = elf.sectionByName(name);
  assert.ok(s, `the fixture has no ${name}`);
  return elf.header.shoff + s.index * SHDR_SIZE;
}

/** Byte offset of a symbol's entry in .symtab. */
function symEntry(elf: ElfFile, name: string): number {
  const syms = elf.symbols!;
  const i = syms.byNameIndex(name);
  assert.ok(i > 0, `the fixture has no symbol ${name}`);
  return syms.section.offset + i * SYM_SIZE;
}

/** Every relocation's r_sym set to 0, and .symtab's sh_type to SHT_NULL: an object without a symbol table. */
function noSymbolTable(bytes: Buffer, elf: ElfFile): void {
  for (const s of elf.sections) {
    if (s.type !== 4) continue; // SHT_RELA
    for (let at = s.offset; at < s.offset + s.size; at += 24) bytes.writeUInt32LE(0, at + 12);
  }
  bytes.writeUInt32LE(0, shdr(elf, '.symtab') + 4);
}

describe('fuzzing findings', () => {
  let dir = '';
  /** A fixture of src/analysis/fixtures assembled (once per flag set), its bytes and the parsed ELF. */
  const built = new Map<string, Buffer>();
  const fixture = (name: string, cflags: string[] = []): { bytes: Buffer; elf: ElfFile } => {
    const key = `${name} ${cflags.join(' ')}`;
    let b = built.get(key);
    if (!b) {
      const sub = join(dir, `f${built.size}`);
      spawnSync('mkdir', ['-p', sub]);
      b = readFileSync(compileFixture(srcPath('analysis', 'fixtures', name), sub, cflags));
      built.set(key, b);
    }
    const bytes = Buffer.from(b);
    return { bytes, elf: ElfFile.fromBytes(bytes, name) };
  };
  let n = 0;
  /** The bytes written as a fresh file; its path. */
  const file = (bytes: Buffer): string => {
    const p = join(dir, `case${n++}.o`);
    writeFileSync(p, bytes);
    return p;
  };
  /** The object with ORC added by orctool (what verify reads). */
  const withOrc = (bytes: Buffer, kernel: string): Buffer => {
    const p = file(bytes);
    assertAnswers(orctool(['--orc', `--kernel=${kernel}`, p]), 'adding ORC');
    return readFileSync(p);
  };

  before(() => {
    dir = makeTempDir('orctool-fuzz-regressions-');
  });
  after(() => removeDir(dir));

  it('the undamaged fixtures: every command below answers', () => {
    const noinstr = fixture('noinstr.S').bytes;
    assertAnswers(orctool(['--orc', '--link', '--noinstr', file(noinstr)]), 'check noinstr.S');
    assertAnswers(orctool(['--orc', '--kernel=6.12', file(fixture('annotations.S').bytes)]), 'check annotations.S');
    const altEmpty = fixture('alt-empty.S').bytes;
    assertAnswers(orctool(['patch', file(altEmpty), '--kernel=6.12', '--features', 'XENPV']), 'patch alt-empty.S (6.12)');
    assertAnswers(orctool(['verify', '--kernel=6.12', file(withOrc(altEmpty, '6.12'))]), 'verify alt-empty.S (6.12)');
    const seed = fixture('seed.S').bytes;
    assertAnswers(orctool(['patch', file(seed), '--kernel=6.12', '--features', 'XENPV,SMAP,ALWAYS']), 'patch seed.S');
    assertAnswers(orctool(['verify', '--kernel=6.12', file(withOrc(seed, '6.12'))]), 'verify seed.S');
    assertAnswers(orctool(['explain', file(seed), 'save_fl+0x0']), 'explain seed.S');
    assertAnswers(orctool(['--dump=orc', file(withOrc(seed, '6.12'))]), 'dump seed.S');
    for (const f of ['frames.S', 'holes.S']) assertAnswers(orctool(['--orc', '--kernel=6.12', file(fixture(f).bytes)]), `check ${f}`);
  });

  // Finding 1 (target check, flag set 4: --orc --link --noinstr ...): a pv_ops symbol whose st_size
  // is huge makes init_pv_ops()'s table of st_size/8 slots: RangeError: Invalid array length in
  // new PvOps (src/analysis/pv-ops.ts, Array.from({ length: nr })). objtool's calloc() fails there.
  it('finding 1: check --noinstr with a pv_ops symbol of st_size 2^56-1 answers (not RangeError: Invalid array length in PvOps)', () => {
      const { bytes, elf } = fixture('noinstr.S');
      bytes.writeBigUInt64LE(0xff_ffff_ffff_ffffn, symEntry(elf, 'pv_ops') + 16);
      assertAnswers(orctool(['--orc', '--link', '--noinstr', file(bytes)]), 'check');
    });

  // Finding 2 (targets explain and check; fixed by 8e974da "A relocation section whose header has
  // another type is refused in one line", found by the mutation sweep at the same time): a `.rela.*`
  // section found by name whose sh_type is neither SHT_RELA nor SHT_REL was read as SHT_REL
  // (16-byte entries): its 24 bytes made 1.5 entries and the second was read past the section:
  // RangeError: Offset is outside the bounds of the DataView in RelocTable.sym
  // (src/elf/relocations.ts) from validateAndIndex, called by annotationSites
  // (src/analysis/annotate.ts) for addIgnoreAlternatives, and by annotationRelocs for addDeadEnds.
  for (const [section, type] of [['.rela.discard.ignore_alts', 1], ['.rela.discard.reachable', 0xf6fc]] as const) {
    it(`finding 2: check of a ${section} of sh_type 0x${type.toString(16)} (24 bytes) answers (not RangeError: Offset is outside the bounds of the DataView in RelocTable.sym)`, () => {
      const { bytes, elf } = fixture('annotations.S');
      const at = shdr(elf, section);
      assert.equal(bytes.readBigUInt64LE(at + 32) % 16n, 8n, 'a size that is no multiple of 16');
      bytes.writeUInt32LE(type, at + 4);
      assertAnswers(orctool(['--orc', '--kernel=6.12', file(bytes)]), 'check');
    });
  }

  // Finding 4 (target patch; verify too): an alternative's original section whose header says
  // SHT_NULL and whose sh_offset is past the end of the file. The reader checks that a section's
  // data is inside the file only for types other than NULL and NOBITS, so its data reads short
  // (empty) while sh_size still counts; the "inside its section" check of 9affe0e trusts sh_size;
  // patching the site then writes past the copy of the section: RangeError: offset is out of
  // bounds in Uint8Array.set from Patcher.patchAlt (src/patch/apply.ts, `st.bytes.set(buf,
  // a.origOff)`), called by applyPatches and by verify's variants (src/verify/verify.ts).
  const nullText = (): Buffer => {
    const { bytes, elf } = fixture('seed.S');
    const at = shdr(elf, '.text');
    bytes.writeUInt32LE(0, at + 4); // SHT_NULL
    bytes.writeBigUInt64LE(BigInt(bytes.length + 0x1000), at + 24); // sh_offset past the end
    return bytes;
  };
  it('finding 4: patch of seed.S whose .text is SHT_NULL with sh_offset past the end answers (not RangeError: offset is out of bounds in Patcher.patchAlt)', () => {
      assertAnswers(orctool(['patch', file(nullText()), '--kernel=6.12', '--features', 'XENPV,SMAP,ALWAYS']), 'patch');
    });

  it('finding 4: verify of seed.S (with ORC) whose .text is SHT_NULL with sh_offset past the end answers (not RangeError: offset is out of bounds in Patcher.patchAlt)', () => {
      const good = withOrc(fixture('seed.S').bytes, '6.12');
      const elf = ElfFile.fromBytes(good, 'seed.o');
      const at = shdr(elf, '.text');
      good.writeUInt32LE(0, at + 4);
      good.writeBigUInt64LE(BigInt(good.length + 0x1000), at + 24);
      assertAnswers(orctool(['verify', '--kernel=6.12', file(good)]), 'verify');
    });

  // Finding 4 in --dump=orc (target dump): the same root cause in another reader of section data.
  // .orc_unwind_ip of sh_type SHT_NULL with sh_offset past the end (its data empty, sh_size
  // counting), and no `.rela.orc_unwind_ip` by that name, so the dump takes the linked-image path
  // and reads the IP slots it believes sh_size holds: RangeError: Offset is outside the bounds of
  // the DataView in dumpOrc (src/orc/dump.ts, `iv.getInt32(i * 4, true)`).
  it('finding 4: --dump=orc of seed.S (with ORC) whose .orc_unwind_ip is SHT_NULL past the end and .rela.orc_unwind_ip unnamed answers (not RangeError in dumpOrc)', () => {
      const good = withOrc(fixture('seed.S').bytes, '6.12');
      const elf = ElfFile.fromBytes(good, 'seed.o');
      const ip = shdr(elf, '.orc_unwind_ip');
      good.writeUInt32LE(0, ip + 4); // SHT_NULL
      good.writeBigUInt64LE(BigInt(good.length + 0x1000), ip + 24); // sh_offset past the end
      good.writeUInt32LE(0, shdr(elf, '.rela.orc_unwind_ip')); // sh_name: ''
      assertAnswers(orctool(['--dump=orc', file(good)]), 'dump');
    });

  // Finding 5 (target explain): a function whose name holds a line terminator (the fuzzer's object
  // named one "\r"; the harness asks for a site by the function that holds it): explain's location
  // pattern /^(.+?)(?:\+(0x[0-9a-fA-F]+|\d+))?$/ has no `s` flag, does not match, and its null
  // result is dereferenced after the analysis: TypeError: Cannot read properties of null (reading
  // '1') in runExplainCommand (src/cli/explain-command.ts, `m![1]`).
  it('finding 5: explain of a function named "save\\rfl" (seed.S, .strtab edited) answers (not TypeError: Cannot read properties of null in runExplainCommand)', () => {
      const { bytes, elf } = fixture('seed.S');
      const strtab = elf.symbols!.strtab;
      const at = bytes.indexOf('save_fl\0', strtab.offset, 'latin1');
      assert.ok(at >= strtab.offset && at < strtab.offset + strtab.size, 'save_fl in .strtab');
      bytes.write('save\rfl', at, 'latin1');
      assertAnswers(orctool(['explain', file(bytes), 'save\rfl+0x0']), 'explain');
    });

  // Finding 6 (target explain, through the analysis every check runs): an object without a symbol
  // table (.symtab's sh_type changed) whose relocations name symbol 0 (which the relocation check
  // lets through: r_sym 0 is the null symbol). The analysis' symbol index is then empty and
  // relocSym() answers undefined for a relocation on a call or a jump: TypeError: Cannot read
  // properties of undefined (reading 'type') in addCallDestinationsOf (src/analysis/passes.ts,
  // `sym.type`), and in addJumpDestinations for a jump.
  for (const [source, via] of [['frames.S', 'addCallDestinationsOf'], ['holes.S', 'addJumpDestinations']] as const) {
    it(`finding 6: check of ${source} without a symbol table, its relocations naming symbol 0, answers (not TypeError: Cannot read properties of undefined in ${via})`, () => {
        const { bytes, elf } = fixture(source);
        noSymbolTable(bytes, elf);
        assertAnswers(orctool(['--orc', '--kernel=6.12', file(bytes)]), 'check');
      });
  }

  // Finding 3 (targets patch and verify, from a seed: the 6.1-layout alt-empty fixture): with the
  // 6.1 layouts' boot patching (optimize_nops of 6.1), an alternative whose original is empty (length
  // 0) hangs: optimizeNops61 (src/patch/nops.ts) reads lens[0] of an empty buffer (undefined), so
  // `i += len` makes i NaN and `i >= buf.length` is never true. No damage needed.
  it('finding 3: patch --kernel=6.1 of an alternative with an empty original (alt-empty.S, 6.1 layout) answers (not a hang in optimizeNops61)', () => {
      const { bytes } = fixture('alt-empty.S', ['-DK61', '-DALT12']);
      assertAnswers(orctool(['patch', file(bytes), '--kernel=6.1', '--features', 'XENPV']), 'patch');
    });

  it('finding 3: verify --kernel=6.1 of alt-empty.S (6.1 layout) with its ORC answers (not a hang in optimizeNops61)', () => {
      const { bytes } = fixture('alt-empty.S', ['-DK61', '-DALT12']);
      assertAnswers(orctool(['verify', '--kernel=6.1', file(withOrc(bytes, '6.1'))]), 'verify');
    });

  // Finding 9 (target patch, session 7's hour): a `.altinstructions` of sh_type SHT_NOBITS. Its
  // sh_size counts entries, but such a section has no bytes in the file (its data is empty): the
  // entries were read past it: RangeError: Offset is outside the bounds of the DataView in
  // readAltinstructions (src/kernel/alternatives.ts). A table section that is SHT_NOBITS is now
  // refused (ElfFile.contents()), as are the unwind hints, annotations and ORC sections.
  for (const [cmd, args] of [['patch', ['--features', 'XENPV']], ['check', []], ['verify', []]] as const) {
    it(`finding 9: ${cmd} of seed.S whose .altinstructions is SHT_NOBITS answers (not RangeError in readAltinstructions)`, () => {
      const { bytes } = fixture('seed.S');
      const src = cmd === 'verify' ? withOrc(bytes, '6.12') : bytes;
      const damaged = Buffer.from(src);
      damaged.writeUInt32LE(8, shdr(ElfFile.fromBytes(damaged, 'seed.o'), '.altinstructions') + 4);
      const argv = cmd === 'check' ? ['--orc', '--kernel=6.12', file(damaged)] : [cmd, file(damaged), '--kernel=6.12', ...args];
      const a = orctool(argv);
      assertAnswers(a, cmd);
      assert.match(a.stderr, /SHT_NOBITS section of 0x[0-9a-f]+ bytes: no contents to read/);
    });
  }

  // Finding 10 (target explain, session 7's second hour): ex-table.S with ex_inline's st_size
  // 0xe400000000000e, the function after it, ex_fixup_section, made STT_NOTYPE, and __ex_table
  // renamed, so that the fixup code after ex_inline's return is unreachable.
  // ignore_unreachable_insn() steps from an unreachable instruction to the next ones while they
  // are inside the function, reading each one's function: the instructions past ex_inline's
  // real end have none (objtool would crash on the NULL too): TypeError: Cannot read properties
  // of undefined (reading 'offset') in ignoreUnreachableInsn (src/analysis/validate.ts), from
  // validateReachableInstructions.
  for (const cmd of ['explain', 'check'] as const) {
    it(`finding 10: ${cmd} of ex-table.S with ex_inline's st_size 0xe400000000000e the next function untyped and no __ex_table answers (not TypeError in ignoreUnreachableInsn)`, () => {
      const { bytes, elf } = fixture('ex-table.S');
      bytes.writeBigUInt64LE(0xe4_0000_0000_000en, symEntry(elf, 'ex_inline') + 16);
      bytes[symEntry(elf, 'ex_fixup_section') + 4] = 0x10; // st_info: STB_GLOBAL, STT_NOTYPE
      // __ex_table named _ex_table: its fixup inside ex_inline is no longer reached
      const at = shdr(elf, '__ex_table');
      bytes.writeUInt32LE(bytes.readUInt32LE(at) + 1, at);
      const f = file(bytes);
      assertAnswers(orctool(cmd === 'explain' ? ['explain', f, 'ex_inline+0x0'] : ['--orc', '--kernel=6.12', f]), cmd);
    });
  }

  // Findings 7 and 8 (target elf, session 7's hour): section header 0 given another type than
  // SHT_NULL, SHT_RELA (7) or SHT_GROUP (8), its data running past the end of the file. Only index
  // 0 was spared the header check (its SHT_NULL size is e_shnum's overflow, not data), so the
  // table was read from data cut short at the file's end: RangeError: Offset is outside the
  // bounds of the DataView in RelocTable.sym (validateAndIndex) and ElfFile.groupMembers.
  for (const [finding, type, via] of [[7, 4, 'RelocTable.sym'], [8, 17, 'ElfFile.groupMembers']] as const) {
    it(`finding ${finding}: orctool elf of seed.S whose section 0 is of sh_type ${type}, past the end of the file, answers (not RangeError in ${via})`, () => {
      const { bytes, elf } = fixture('seed.S');
      const at = elf.header.shoff;
      bytes.writeUInt32LE(type, at + 4);
      bytes.writeBigUInt64LE(BigInt(bytes.length - 24), at + 24); // sh_offset
      bytes.writeBigUInt64LE(0x1000n, at + 32); // sh_size
      bytes.writeUInt32LE(elf.symbols!.section.index, at + 40); // sh_link
      bytes.writeUInt32LE(1, at + 44); // sh_info
      bytes.writeBigUInt64LE(type === 4 ? 24n : 4n, at + 56); // sh_entsize
      const a = orctool(['elf', file(bytes)]);
      assertAnswers(a, 'elf');
      assert.match(a.stderr, /runs past the end of the file/);
    });
  }
});
