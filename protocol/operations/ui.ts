/**
 * The daemon's board methods (`cairn ui`): served by the daemon itself, like
 * `daemon.status`, and kept out of OPERATION_SPECS because they are not
 * operations on a repository an agent calls (the MCP tools do not offer
 * them). Checked with the same validator (`checkArgs`) as every operation.
 */
import { z } from 'zod'
import { LIMITS } from '../limits.ts'
import { intIn, name } from './fields.ts'
import { specs } from './spec.ts'

export const UI_OPERATIONS = specs({
  'ui.start': {
    summary: "serve the live board on 127.0.0.1 (or change how it is served) and add the request's repository to it",
    args: z.strictObject({
      port: intIn(0, 65_535).optional().describe('the port (0: any free one); without it the board keeps its port, or takes 7470 (any free one when taken)'),
      allowWrites: z.boolean().optional().describe('let the page comment, close issues and break stale leases (default false: read-only)'),
      writer: name(LIMITS.agent).optional().describe("the human agent name writes are made as (default the request's agent); required with allowWrites"),
      rotateToken: z.boolean().optional().describe('make a new secret token; URLs with the old one stop working'),
    }),
    reply: '{ url (with the token), port, allowWrites, writer, repos: [{ id, name, path }], pid }',
    global: true,
  },
  'ui.stop': {
    summary: 'stop serving the board',
    args: z.strictObject({}),
    reply: '{ stopped }: false when no board was served',
    global: true,
  },
})
