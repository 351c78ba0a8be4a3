import { ApiProperty } from '@nestjs/swagger';
import { IsBoolean } from 'class-validator';

/** PATCH /api/v1/contacts/:phone: `{optedOut:false}` clears an opt-out. */
export class UpdateContactDto {
  @ApiProperty({
    description: '`false` clears an opt-out, `true` opts the contact out now.',
    example: false,
  })
  @IsBoolean()
  optedOut!: boolean;
}
