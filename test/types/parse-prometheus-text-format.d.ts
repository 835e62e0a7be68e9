// Types for the devDependency parse-prometheus-text-format (it ships none): the metric families
// of a Prometheus text exposition, as its README describes them.
declare module 'parse-prometheus-text-format' {
  /** One sample: labels and the value as written (gauges, counters, untyped). */
  export interface PrometheusMetric {
    value: string;
    labels?: Record<string, string>;
  }
  /** A metric family: its name, HELP, TYPE and samples. */
  export interface PrometheusFamily {
    name: string;
    help: string;
    type: string;
    metrics: PrometheusMetric[];
  }
  export default function parsePrometheusTextFormat(text: string): PrometheusFamily[];
}
