export const HTTP_REQUEST_DURATION = 'http_request_duration_seconds';

/** The route label for requests that matched no route (keeps cardinality bounded). */
export const UNMATCHED_ROUTE = 'unmatched';
