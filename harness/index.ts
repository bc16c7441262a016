/**
 * The library: what `import { … } from 'smtp-tls-lab'` gives a test of your own. Re-exports
 * only; each name lives in its own layer (harness/tests/unit/layers.test.ts holds this file to
 * that). Loading it loads the lab engine and its clients (testcontainers, nodemailer), never
 * vitest: the matchers are plain functions for `expect.extend(labMatchers)`, and their types
 * reach vitest's `expect` through ./matchers/vitest.ts.
 */

// Engine and image: what a test needs before it starts a lab.
export { ensureEngine } from './engine/engine.js';
export { ensureImage, type ImageRef } from './engine/images.js';
export { countLabObjects, removeLabObjects, type CleanupReport, type CleanupScope } from './engine/cleanup.js';

// The container builders: a whole scenario (network, certificates, Postfix, client, peers), or one node.
export { loadScenario, loadCatalogue, type CatalogueEntry } from './scenario/load.js';
export type { Scenario } from './scenario/types.js';
export { ScenarioSession } from './lab/scenario-session.js';
export { PostfixContainer, StartedPostfixContainer, type Endpoint, type MapFile } from './postfix/postfix-container.js';
export { ClientContainer, LabClientContainer } from './lab/client-container.js';

// The clients: each returns the same TlsObservation.
export { runRawClient, type RawClientOptions, type RawClientResult } from './smtp/raw-client.js';
export { runNodemailer } from './clients/nodemailer.js';
export { runOpenssl } from './clients/openssl.js';
export { labClient, type ClientRequest, type ClientOutcome, type ClientContext, type LabClient } from './clients/index.js';
export type { TlsClientOptions } from './tls/node-tls.js';
export type { TlsObservation, TlsDetails, ClientName, TlsMode, SmtpReply, TranscriptEntry } from './tls/observation.js';

// Postfix's log as a stream of parsed events.
export { PostfixLog } from './postfix/log-stream.js';
export { parseLogLine, type PostfixLogEvent, type PostfixLogEventType } from './postfix/log-parser.js';

// Errors.
export { LabError, STAGES, type ErrorCode, type Stage, type LabErrorRecord } from './core/errors.js';

// Matchers: expect.extend(labMatchers); the types come with ./matchers/vitest.ts.
export { labMatchers, type NegotiationExpectation, type AdvertiseOptions, type LogPattern } from './matchers/lab-matchers.js';
export type { LabMatchers } from './matchers/vitest.js';
