import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import type { AccessToken } from '../auth.types';

@ApiSchema({ name: 'AccessToken' })
export class AccessTokenResponse implements AccessToken {
  @ApiProperty({
    description: 'An HS256 JWT: send it as `Authorization: Bearer <accessToken>`.',
    example: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIuLi4ifQ.c2lnbmF0dXJl',
  })
  accessToken!: string;

  @ApiProperty({ enum: ['Bearer'], example: 'Bearer' })
  tokenType!: 'Bearer';

  @ApiProperty({ type: 'integer', description: 'Seconds the token is valid for.', example: 900 })
  expiresIn!: number;
}
