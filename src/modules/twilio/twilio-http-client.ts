import { RequestClient } from 'twilio';
import type RequestClientBase from 'twilio/lib/base/RequestClient';
import type TwilioResponse from 'twilio/lib/http/response';
import { classifyNetworkError, toTwilioApiError } from './twilio.errors';

const TWILIO_ORIGIN = /^https:\/\/[a-z0-9.-]*twilio\.com/i;

/**
 * The transport twilio-node uses (its documented `httpClient` option): the SDK still builds
 * every request and parses every answer; this class only
 * - sends requests to `baseUrl` instead of Twilio's hard-coded host when one is given (the
 *   simulator), and
 * - turns error answers into TwilioApiError with Retry-After (the SDK drops headers), and
 *   transport failures into TwilioNetworkError, which tells "never connected" from "may have
 *   been processed".
 */
export class TwilioHttpClient extends RequestClient {
  constructor(
    private readonly baseUrl: string | undefined,
    timeoutMs: number,
  ) {
    super({ timeout: timeoutMs, keepAlive: true });
  }

  override async request<TData>(
    opts: RequestClientBase.RequestOptions<TData>,
  ): Promise<TwilioResponse<TData>> {
    const uri = this.baseUrl ? opts.uri.replace(TWILIO_ORIGIN, this.baseUrl) : opts.uri;
    let response: TwilioResponse<TData>;
    try {
      response = await super.request({ ...opts, uri });
    } catch (error) {
      throw classifyNetworkError(error);
    }
    if (response.statusCode >= 400) {
      const headers = (response.headers ?? {}) as Record<string, unknown>;
      throw toTwilioApiError(response.statusCode, response.body, headers);
    }
    return response;
  }
}
