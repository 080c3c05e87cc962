// SPDX-License-Identifier: GPL-2.0-only
// One error type for bad input, so every layer reports the same way: the file, the part of it
// (header, a section by name), the byte offset, and what is wrong, on a single line.

export class OrctoolError extends Error {
  constructor(
    readonly file: string,
    /** 'ELF header', a section name, or another named part of the input. */
    readonly where: string,
    /** Byte offset in the file or section the error points at, when there is one. */
    readonly offset: number | undefined,
    readonly detail: string,
  ) {
    super(formatLocation(file, where, offset) + detail);
    this.name = 'OrctoolError';
  }
}

function formatLocation(file: string, where: string, offset: number | undefined): string {
  const at = offset === undefined ? '' : ` at offset 0x${offset.toString(16)}`;
  return `${file}: ${where}${at}: `;
}

/** Bad or unsupported ELF input. */
export class ElfFormatError extends OrctoolError {
  constructor(file: string, where: string, offset: number | undefined, detail: string) {
    super(file, where, offset, detail);
    this.name = 'ElfFormatError';
  }
}

/** A usage error on the command line: no file involved. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
