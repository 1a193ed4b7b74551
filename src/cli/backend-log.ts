// The one-shot commands print which TensorFlow.js backend their models run on, on stderr, so that
// --json output on stdout stays machine-readable.
export function stderrLogger(): { info: (fields: object, message: string) => void } {
  return { info: (_fields, message) => process.stderr.write(`${message}\n`) };
}
