import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

export class EchoDto {
  @IsString()
  @MaxLength(64)
  name!: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(100)
  count?: number;
}
