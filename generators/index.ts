export { decodeSpanId, decodeTraceId, fnv1a32, fromHex, runTag, spanId, toHex, traceId, unitHash } from './ids.js';
export { ATTR, filler, HARNESS_SCOPE, type RunIdentity } from './otlp-common.js';
export { nanosFromMillis, ProtoWriter, uint64ToString, type Uint64 } from './protobuf-writer.js';
export {
  traceShapeDefaults,
  traceTraits,
  TraceBatchBuilder,
  type Batch,
  type TraceShape,
  type TraceTraits,
} from './traces.js';
export { fileLogLine, logLine, logShapeDefaults, LogBatchBuilder, seqOfLogLine, type LogShape } from './logs.js';
export {
  PAYLOAD_PROFILES,
  routeOf,
  spanNameKind,
  SYNTHETIC,
  webLogLevel,
  webSpanAttributes,
  type PayloadProfile,
  type PayloadShape,
} from './payload.js';
export {
  fixedIntervalClock,
  METRIC_NAME,
  METRIC_NAMES,
  METRIC_TYPES,
  MetricBatchBuilder,
  metricTypesOf,
  STORED_METRIC_NAMES,
  pointOf,
  tickTimeMs,
  type MetricShape,
  type MetricType,
  type MetricTimeline,
} from './metrics.js';
export { dueTimeMs, itemsDue, rateAt, totalItems, type RateProfile } from './rate-profile.js';
export {
  decodePartialSuccess,
  decodePartialSuccessJson,
  decodeRetryInfoMs,
  grpcCodeName,
  grpcOutcome,
  type PartialSuccess,
} from './otlp-response.js';
