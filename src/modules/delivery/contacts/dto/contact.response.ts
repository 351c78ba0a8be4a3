import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import type { ContactResponse } from '../contacts.service';

const OR_NULL = { type: String, nullable: true } as const;
const DATE_TIME_OR_NULL = { ...OR_NULL, format: 'date-time' } as const;

/** GET and PATCH /api/v1/contacts/:phone (docs/api.md §4.7). */
@ApiSchema({ name: 'Contact' })
export class ContactResponseDto implements ContactResponse {
  @ApiProperty({ description: 'Bare `+E164`.', example: '+14155550100' })
  phone!: string;

  @ApiProperty({ ...OR_NULL, example: '14155550100' })
  waId!: string | null;

  @ApiProperty({ ...OR_NULL, example: 'Ada' })
  profileName!: string | null;

  @ApiProperty({ ...DATE_TIME_OR_NULL, example: '2025-01-31T17:55:00.000Z' })
  lastInboundAt!: string | null;

  @ApiProperty({ description: 'Whether a free-form send passes now.', example: true })
  windowOpen!: boolean;

  @ApiProperty({
    ...DATE_TIME_OR_NULL,
    description: 'lastInboundAt + 24 h.',
    example: '2025-02-01T17:55:00.000Z',
  })
  windowExpiresAt!: string | null;

  @ApiProperty({ ...DATE_TIME_OR_NULL, example: null })
  optedOutAt!: string | null;
}
