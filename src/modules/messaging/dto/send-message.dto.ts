import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import {
  IsContentVariables,
  IsMediaUrls,
  IsMessageText,
  IsSmallJsonObject,
  IsWhatsappNumber,
} from './send-validators';

const HTTPS_URL = { type: 'string', format: 'uri', maxLength: 2048 } as const;

/** POST /api/v1/whatsapp/send (the HTTP contract: docs/architecture.md §6). */
@ApiSchema({
  description:
    '`to` and exactly one kind of content: text (`message`, optionally with `mediaUrl`), media alone (`mediaUrl`), or a template (`contentSid`, optionally with `contentVariables`).',
})
export class SendMessageDto {
  @ApiProperty({
    description:
      '`+E164` or `whatsapp:+E164` (a possible number for its country code); stored as `whatsapp:+E164`.',
    example: '+14155550100',
  })
  @IsWhatsappNumber()
  to!: string;

  @ApiPropertyOptional({
    minLength: 1,
    maxLength: 1600,
    description: 'Text; required unless mediaUrl or contentSid is given; not with contentSid.',
    example: 'Your order has shipped.',
  })
  @IsMessageText()
  message?: string;

  @ApiPropertyOptional({
    oneOf: [HTTPS_URL, { type: 'array', items: HTTPS_URL, minItems: 1, maxItems: 10 }],
    description: 'One https URL or an array of 1–10; not with contentSid.',
    example: 'https://example.com/receipt.pdf',
  })
  @IsMediaUrls()
  mediaUrl?: string | string[];

  @ApiPropertyOptional({
    pattern: '^HX[0-9a-fA-F]{32}$',
    description: 'An approved template.',
    example: 'HX0123456789abcdef0123456789abcdef',
  })
  @IsOptional()
  @Matches(/^HX[0-9a-fA-F]{32}$/, {
    message: 'contentSid must be HX followed by 32 hex characters',
  })
  contentSid?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    maxProperties: 100,
    description: 'Template variables, only with contentSid; ≤ 16 KB as JSON.',
    example: { '1': 'Ada', '2': 'order 42' },
  })
  @IsContentVariables()
  contentVariables?: Record<string, string>;

  @ApiPropertyOptional({
    minLength: 1,
    maxLength: 128,
    description: 'Your own id for the message; filterable in the list.',
    example: 'order-42',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  reference?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'Any JSON object, ≤ 4 KB as JSON; stored and returned as given.',
    example: { orderId: 42 },
  })
  @IsSmallJsonObject()
  metadata?: Record<string, unknown>;
}

/** 202: the message is stored (`pending`) and will be sent asynchronously. */
@ApiSchema({ name: 'SendAccepted' })
export class SendAccepted {
  @ApiProperty({ enum: [true], example: true })
  success!: true;

  @ApiProperty({ format: 'uuid', example: '3f1c2a9e-5b7d-4c1e-9a2b-6d8e0f1a2b3c' })
  id!: string;

  @ApiProperty({ enum: ['pending'], example: 'pending' })
  status!: 'pending';

  @ApiProperty({
    type: String,
    nullable: true,
    enum: [null],
    description: 'Always null here; follow the message with delivery-status.',
    example: null,
  })
  messageSid!: null;
}
