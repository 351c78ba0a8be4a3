import { Injectable, type PipeTransform } from '@nestjs/common';
import { AppException } from '../errors/app.exception';
import { ErrorCode } from '../errors/error-code';
import { isUuid } from '../ids';

/** A malformed id names nothing: 404, like an unknown one (never a 500 from Postgres). */
@Injectable()
export class UuidParamPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!isUuid(value)) throw new AppException(ErrorCode.NotFound, 'Not found.');
    return value.toLowerCase();
  }
}
