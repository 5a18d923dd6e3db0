import { simpleActor } from '../simple-actor.ts'
import { lockKeeperMachine, LOCK_KEEPER_SNAPSHOT_VERSION } from './machine.ts'

export const lockKeeper = simpleActor('lock-keeper', lockKeeperMachine, LOCK_KEEPER_SNAPSHOT_VERSION)
