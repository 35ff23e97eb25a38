import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate, type BrotliDecompress, type Gunzip, type Inflate } from 'node:zlib';
import { ApiError } from './errors.js';

/** `Content-Encoding` values a request body may carry (`x-gzip` is gzip's old name, RFC 9110 §8.4.1.3). */
const DECODERS: Readonly<Record<string, () => Gunzip | Inflate | BrotliDecompress>> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate, // HTTP's "deflate" is the zlib format (RFC 9110 §8.4.1.2)
  br: createBrotliDecompress,
};

/**
 * The codings applied to the body (none for a missing header or `identity`), or a 415 in the
 * envelope for any other. One coding at a time: stacked codings are not something clients send.
 */
export function parseContentEncoding(header: string | undefined): string[] | ApiError {
  const codings = (header ?? '')
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== '' && coding !== 'identity');
  const unknown = codings.find((coding) => !Object.hasOwn(DECODERS, coding));
  if (unknown !== undefined || codings.length > 1) {
    const shown = unknown ?? codings.join(', ');
    return new ApiError(415, `Content-Encoding "${shown.slice(0, 40)}" is not supported: send the body as is, or with gzip, deflate or br`);
  }
  return codings;
}

export interface DecodedBody {
  /** The decoded bytes (the payload itself when nothing is to decode). */
  readonly output: Readable;
  /** Stops decoding (the payload is left to be read by someone else). */
  close(): void;
}

/** The payload decoded as it arrives (streaming, so a small compressed body cannot inflate unseen). */
export function decoders(payload: Readable, codings: readonly string[]): DecodedBody {
  const coding = codings[0];
  if (coding === undefined) return { output: payload, close: () => {} };
  const decoder = DECODERS[coding]!();
  payload.pipe(decoder);
  return {
    output: decoder,
    close() {
      payload.unpipe(decoder);
      decoder.destroy();
    },
  };
}
