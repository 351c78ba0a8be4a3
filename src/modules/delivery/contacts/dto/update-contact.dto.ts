import { IsBoolean } from 'class-validator';

/** PATCH /api/v1/contacts/:phone: `{optedOut:false}` clears an opt-out. */
export class UpdateContactDto {
  @IsBoolean()
  optedOut!: boolean;
}
