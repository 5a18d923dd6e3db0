/**
 * Internal read option: the caller only encodes the answer and never changes
 * it (the daemon), so a query may answer with an object the thread's reader
 * keeps for later callers instead of a fresh copy. In a module of its own,
 * with no imports, so the CLI's daemon path does not load the runtime.
 */
export const SHARED_ANSWER: unique symbol = Symbol('cairn.sharedAnswer')

/**
 * Answers handed out under SHARED_ANSWER that later callers may get again
 * (a kept projection): immutable by that contract, so whoever encodes one may
 * keep its encoding for as long as the object lives.
 */
export const REUSED_ANSWERS = new WeakSet<object>()
