// SPDX-License-Identifier: GPL-2.0-only
// The decoder's one error: bytes in an executable section that are not an instruction.
import { OrctoolError } from '../errors.js';

export class X86DecodeError extends OrctoolError {
  /** objtool's own wording: "can't decode instruction at <section>:0x<offset>". */
  readonly objtoolMessage: string;

  constructor(file: string, readonly section: string, offset: number) {
    const text = `can't decode instruction at ${section}:0x${offset.toString(16)}`;
    super(file, section, offset, text);
    this.name = 'X86DecodeError';
    this.objtoolMessage = text;
  }
}
