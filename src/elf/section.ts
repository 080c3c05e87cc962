// SPDX-License-Identifier: GPL-2.0-only
// One section header, with its contents as a view over the file's bytes (never a copy), read
// from the file when first asked for.
import { SHF_ALLOC, SHF_EXECINSTR, SHT_NOBITS } from './constants.js';
import type { FileImage } from './file-image.js';

export class Section {
  constructor(
    readonly index: number,
    readonly name: string,
    readonly nameOffset: number,
    readonly type: number,
    readonly flags: number,
    /** sh_addr as read; a bigint because linked kernels live above 2^53. */
    readonly addr: bigint,
    readonly offset: number,
    readonly size: number,
    readonly link: number,
    readonly info: number,
    readonly addralign: number,
    readonly entsize: number,
    private readonly image: FileImage,
  ) {}

  private loaded?: Uint8Array;

  /** Bytes [from, from + out.length) of the section into `out`, read without keeping them (see FileImage.readInto). */
  readInto(from: number, out: Uint8Array): void {
    if (from < 0 || from + out.length > this.size) throw new RangeError(`${this.name}: [${from}, ${from + out.length}) is outside the section`);
    if (this.loaded) out.set(this.loaded.subarray(from, from + out.length));
    else this.image.readInto(this.offset + from, out);
  }

  /** The section's bytes in the file; empty for SHT_NOBITS. */
  get data(): Uint8Array {
    if (this.type === SHT_NOBITS) return new Uint8Array(0);
    return (this.loaded ??= this.image.range(this.offset, this.size));
  }

  get isExec(): boolean {
    return (this.flags & SHF_EXECINSTR) !== 0;
  }

  get isAlloc(): boolean {
    return (this.flags & SHF_ALLOC) !== 0;
  }
}
