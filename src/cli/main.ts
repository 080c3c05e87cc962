// SPDX-License-Identifier: GPL-2.0-only
// Command-line entry point: dispatch, and the one place where errors become one line on
// stderr and an exit status (error-line.ts; a batch's workers print a file's error the same way).
// The other commands are loaded only when asked for: start-up counts for the many small
// objects of a kernel build.
import { ElfFile } from '../elf/reader.js';
import { UsageError } from '../errors.js';
import { runCheckCommandJobs } from './check-command.js';
import { errorLine } from './error-line.js';

const USAGE = `usage: orctool <actions> [<options>] file.o...   objtool's command line (6.1 to 7.3):
         actions --orc, --stackval, --uaccess, --noinstr, --ibt, --retpoline, --rethunk, --sls,
           --static-call, --mcount, --hacks[=jump_label,noinstr,skylake], --prefix=N, --dump[=orc]
         options --link, --module, --mnop, --dry-run, --backup, --werror, --output FILE (-o with a
           7.x kbuild), --backtrace, --no-unreachable, --sec-address, --stats, --verbose,
           --disas[=PATTERN], --trace PATTERN, --wide (listings in orctool's own rendering);
           OBJTOOL_ARGS and OBJTOOL_VERBOSE=1 as objtool reads them
         orctool's own: --kernel=6.1|6.3|6.4|6.12|7.3 (default: detected), --format=json|sarif,
           --jobs=N (threads for several files; default: the cores but one; 1: no workers)
       orctool patch FILE --features LIST [-o OUT]   apply alternatives as the kernel does at boot
       orctool verify [--coverage] FILE...
                                 check the ORC table against every patched variant of the code
                                 (--coverage: the share of the code that can execute it checked)
       orctool explain FILE FUNC+OFF [--html]   per-offset table of an alternative site
       orctool elf FILE...       print sections, symbols and relocations as orctool reads them`;

function writeLines(lines: string[]): void {
  process.stdout.write(lines.join('\n') + '\n');
}

/** The batch's status line on a terminal, rewritten in place and cut to the width. */
function progressLine(line: string | null): void {
  const width = Math.max(1, (process.stderr.columns || 80) - 1);
  process.stderr.write(line === null ? '\r\x1b[K' : `\r\x1b[K${line.slice(0, width)}`);
}

async function run(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'elf': {
      if (rest.length === 0) throw new UsageError('elf: no input file');
      const { dumpElf } = await import('./elf-dump.js');
      for (const f of rest) {
        const lines: string[] = [];
        dumpElf(ElfFile.open(f), (l) => lines.push(l));
        writeLines(lines);
      }
      return 0;
    }
    case 'verify':
      return (await import('./verify-command.js')).runVerifyCommand(rest, { stdout: (t) => process.stdout.write(t) });
    case 'explain':
      return (await import('./explain-command.js')).runExplainCommand(rest, { stdout: (t) => process.stdout.write(t) });
    case 'patch':
      return (await import('./patch-command.js')).runPatchCommand(rest, { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) });
    case undefined:
    case '--help':
      process.stdout.write(USAGE + '\n');
      return cmd === undefined ? 1 : 0;
    default:
      if (cmd.startsWith('-')) {
        // latin1: dump text is one character per byte, as objtool prints names.
        return runCheckCommandJobs(argv, {
          stdout: (t) => process.stdout.write(t, 'latin1'),
          stderr: (t) => process.stderr.write(t, 'latin1'),
          progress: process.stderr.isTTY ? progressLine : undefined,
        });
      }
      throw new UsageError(`unknown command '${cmd}'\n${USAGE}`);
  }
}

export async function main(argv: string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (e) {
    process.stderr.write(errorLine(e));
    return 1;
  }
}
