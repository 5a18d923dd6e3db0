/** Types of scripts/build.mjs, for the TypeScript that imports it (benches, tests). */
export function isStale(): boolean
export function rewriteDeclaration(text: string): string
export function build(): { ms: number; declarations: number; assets: number; pruned: number }
