import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MATRIX_PATH, renderMatrix } from '../test/compatibility/render.js';
import { sdkMethods, sdkVersion } from '../test/compatibility/sdkSurface.js';

/** Writes docs/metronome-compatibility.md from test/compatibility/matrix.ts and the installed SDK. */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
writeFileSync(path.join(root, MATRIX_PATH), renderMatrix({ sdk: sdkMethods(), version: sdkVersion() }));
console.log(`wrote ${MATRIX_PATH}`);
