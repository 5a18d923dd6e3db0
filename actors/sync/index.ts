import { simpleActor } from '../simple-actor.ts'
import { syncMachine, SYNC_SNAPSHOT_VERSION } from './machine.ts'

export const sync = simpleActor('sync', syncMachine, SYNC_SNAPSHOT_VERSION)
