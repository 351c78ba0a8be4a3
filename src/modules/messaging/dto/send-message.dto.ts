import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import {
  IsContentVariables,
  IsMediaUrls,
  IsMessageText,
  IsSmallJsonObject,
  IsWhatsappNumber,
} from './send-validators';

/** POST /api/v1/whatsapp/send (the HTTP contract: docs/architecture.md §6). */
export class SendMessageDto {
  @IsWhatsappNumber()
  to!: string;

  @IsMessageText()
  message?: string;

  @IsMediaUrls()
  mediaUrl?: string | string[];

  @IsOptional()
  @Matches(/^HX[0-9a-fA-F]{32}$/, {
    message: 'contentSid must be HX followed by 32 hex characters',
  })
  contentSid?: string;

  @IsContentVariables()
  contentVariables?: Record<string, string>;

  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  reference?: string;

  @IsSmallJsonObject()
  metadata?: Record<string, unknown>;
}

export interface SendAccepted {
  success: true;
  id: string;
  status: 'pending';
  messageSid: null;
}
