// SPDX-License-Identifier: GPL-2.0-only
// A worker of a batch (batch.ts): loads orctool once, parses the batch's command line, then
// checks the files it is handed one at a time, sending each one's buffered output back.
import { parentPort, workerData } from 'node:worker_threads';
import { checkFile, parseCommandLine } from './check-command.js';
import { bufferOutput, type Chunk, type FileRequest, type FileResult } from './batch.js';

const port = parentPort!;
const cl = parseCommandLine((workerData as { argv: string[] }).argv);

port.on('message', (req: FileRequest) => {
  if (req === null) {
    port.close();
    return;
  }
  const chunks: Chunk[] = [];
  // Internal errors are reported here too: thrown, they would end the worker and its batch.
  const status = checkFile(cl, cl.files[req.index]!, bufferOutput(chunks), true);
  const res: FileResult = { index: req.index, status, chunks };
  port.postMessage(res);
});
