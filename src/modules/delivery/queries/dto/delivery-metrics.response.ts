import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import type { DeliveryMetrics } from '../delivery-queries.service';

const RATE = { type: Number, nullable: true, minimum: 0, maximum: 1 } as const;
const MS_OR_NULL = { type: Number, nullable: true } as const;

@ApiSchema({ name: 'Percentiles', description: 'Milliseconds; null when no message has both.' })
export class PercentilesResponse {
  @ApiProperty({ ...MS_OR_NULL, example: 850 })
  p50!: number | null;

  @ApiProperty({ ...MS_OR_NULL, example: 2100 })
  p95!: number | null;

  @ApiProperty({ ...MS_OR_NULL, example: 4800.5 })
  p99!: number | null;
}

@ApiSchema({ name: 'StageLatencies' })
export class StageLatenciesResponse {
  @ApiProperty({ type: () => PercentilesResponse })
  acceptedToSent!: PercentilesResponse;

  @ApiProperty({ type: () => PercentilesResponse })
  sentToDelivered!: PercentilesResponse;

  @ApiProperty({ type: () => PercentilesResponse })
  deliveredToRead!: PercentilesResponse;
}

@ApiSchema({ name: 'TopError' })
export class TopErrorResponse {
  @ApiProperty({ type: 'integer', example: 63016 })
  errorCode!: number;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'Failed to send freeform message because you are outside the allowed window.',
  })
  errorMessage!: string | null;

  @ApiProperty({ type: 'integer', example: 25 })
  count!: number;
}

/** GET /api/v1/whatsapp/delivery-metrics (docs/api.md §5.2), over outbound messages. */
@ApiSchema({ name: 'DeliveryMetrics' })
export class DeliveryMetricsResponse implements DeliveryMetrics {
  @ApiProperty({ format: 'date-time', example: '2025-01-30T18:00:00.000Z' })
  since!: string;

  @ApiProperty({ format: 'date-time', example: '2025-01-31T18:00:00.000Z' })
  until!: string;

  @ApiProperty({ type: 'integer', example: 1200 })
  total!: number;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    description: 'Count per current status; statuses with none are absent.',
    example: { read: 800, delivered: 250, sent: 60, undelivered: 30, failed: 40, pending: 20 },
  })
  byStatus!: Record<string, number>;

  @ApiProperty({ ...RATE, example: 0.9210526315789473 })
  deliveryRate!: number | null;

  @ApiProperty({ ...RATE, example: 0.7619047619047619 })
  readRate!: number | null;

  @ApiProperty({ ...RATE, example: 0.058333333333333334 })
  failureRate!: number | null;

  @ApiProperty({ type: () => TopErrorResponse, isArray: true, maxItems: 10 })
  topErrors!: TopErrorResponse[];

  @ApiProperty({ type: () => StageLatenciesResponse })
  latencyMs!: StageLatenciesResponse;
}
