import { parse } from 'yaml';

interface CollectorConfig {
  exporters?: Record<string, { sending_queue?: { enabled?: boolean; sizer?: string; storage?: string } } | null>;
}

/**
 * What `otelcol_exporter_queue_size` counts for each exporter of an effective collector configuration:
 * its sending_queue sizer ('requests' by default, or 'items' / 'bytes').
 */
export function queueUnits(config: string | undefined): (exporter: string) => string {
  let parsed: CollectorConfig = {};
  try {
    parsed = (config === undefined ? {} : (parse(config) as CollectorConfig | null)) ?? {};
  } catch {
    parsed = {};
  }
  return (exporter) => {
    const sizer = parsed.exporters?.[exporter]?.sending_queue?.sizer;
    return sizer === undefined || sizer === 'requests' ? 'requests' : sizer;
  };
}
