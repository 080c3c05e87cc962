// SPDX-License-Identifier: GPL-2.0-only
// The x86 decoding layer's public surface. Nothing here exposes iced-x86.
export { decodeSection, type DecodeOptions } from './decoder.js';
export { formatInstructions } from './iced.js';
export {
  InsnType, OpDestType, OpSrcType, CfiReg, InsnFlag, OP_STRIDE, opDestType, opDestReg, opSrcType, opSrcReg,
  type DecodedSection, type StackOp,
  stackOps, readStackOp, indexAt, indexContaining, dispSize, immSize, fieldAt, relocFieldPos, typeName,
} from './insn.js';
export { X86DecodeError } from './errors.js';
export { NOPS, nopInsn, retInsn } from './nops.js';
export { type DecoderVariant, DECODER_6_12, DECODER_6_1 } from './variant.js';
export { objtoolIsInFunc } from './in-func.js';
export { decodeWarnings, type DecodeWarning } from './warnings.js';
