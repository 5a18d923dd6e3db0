/** Wire types and codecs: envelopes, error codes, framing, grite events. */
export * from './errors.ts'
export * from './envelope.ts'
export * from './codec.ts'
export * from './framing.ts'
export * from './messages.ts'
export * from './events/index.ts'
export * from './results.ts'
export * from './supervision.ts'
