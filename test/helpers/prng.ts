/**
 * mulberry32, the seeded PRNG every randomised test replays from its seed:
 * the same function the board demo seeds its backlog with.
 */
export { prng as mulberry32 } from '../../lib/cli/demo/board-seed.ts'
