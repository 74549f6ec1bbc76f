import { run } from './scenario.js';

run().then((r) => postMessage(`worker: ${r}`), (e) => postMessage(`worker: FAIL ${e}`));
