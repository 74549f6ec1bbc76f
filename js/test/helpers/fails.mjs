// SPDX-License-Identifier: MIT
// fails(fn, code, re): fn throws a PocketVecError with that code and a
// message matching re.
import assert from 'node:assert/strict';

import { PocketVecError } from '../../index.js';

export function fails(fn, code, re) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof PocketVecError, `not a PocketVecError: ${e?.stack ?? e}`);
    assert.equal(e.code, code, `code ${e.code} (${e.message})`);
    assert.match(e.message, re);
    return true;
  });
}
